"""Public types of rustllm, laid out like ``litellm.types``.

Response objects live in :mod:`rustllm.types.utils`; nothing is imported here so that
``import rustllm`` stays cheap.
"""

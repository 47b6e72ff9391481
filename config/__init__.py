"""Configuration: the TOML file plus environment overrides, validated into typed settings.

The only package that reads the environment. Must not import telephony, agent_console or crm_core.
"""

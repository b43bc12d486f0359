"""Agent-framework integrations. Each module imports its framework lazily and only when
used: ``writ.integrations.openai_agents``, ``writ.integrations.langchain``,
``writ.integrations.mcp``."""

"""The balloon core: QMP sessions, the balloon model, history. Plain asyncio; never imports Textual."""

"""The application: the commands beneath `brief.cli` (option parsing per command group, summaries, exit
codes), the runner that opens a run's context and invokes a graph, the preflight that checks input and the
LLM before anything is locked, and what `brief memory …` does. Nothing below imports it."""

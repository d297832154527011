from jisr_kg.cli import run

run()

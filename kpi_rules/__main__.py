from kpi_rules.cli import main

main()

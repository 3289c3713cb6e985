from mafia.cli import main

raise SystemExit(main())

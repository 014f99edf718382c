"""`python -m motcua` runs the operator CLI."""
import sys

from motcua.cli import main

sys.exit(main())

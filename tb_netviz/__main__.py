"""`python -m tb_netviz`: the same as the `tb-netviz` command."""

import sys

from tb_netviz.cli import main

sys.exit(main())

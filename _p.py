import numpy as np, cProfile, pstats
import angd_np as an
from threadpoolctl import threadpool_limits
from angd_np import Scenario
threadpool_limits(1)
p = Scenario.preset("balanced", n_tx=32, n_users=4).draw(8, rng=4817)
ones=[p[i:i+1] for i in range(8)]
cProfile.run('for _ in range(3):\n for one in ones: an.solve(one, "lbfgs", iters=45, init="zf")', '/tmp/o.prof')
pstats.Stats('/tmp/o.prof').sort_stats('tottime').print_stats(30)

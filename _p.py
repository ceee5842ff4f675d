import numpy as np, cProfile, pstats
from threadpoolctl import threadpool_limits
from angd_np import Scenario
from angd_np.solvers.lbfgs import lbfgs
threadpool_limits(1)
p = Scenario.preset("balanced", n_tx=16, n_users=2).draw(1, rng=5)
lbfgs(p, iters=80, init="zf")
cProfile.run('for _ in range(20): lbfgs(p, iters=80, init="zf")', '/tmp/lb.prof')
pstats.Stats('/tmp/lb.prof').sort_stats('tottime').print_stats(22)

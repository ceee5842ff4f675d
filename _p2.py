import numpy as np, cProfile, pstats, time
import angd_np as an
from threadpoolctl import threadpool_limits
from angd_np import Scenario
import benchmarks.lbfgs_scipy as B
threadpool_limits(1)
p = Scenario.preset("paper", n_tx=16, n_users=2).draw(24, rng=4817)
ones=[p[i:i+1] for i in range(24)]
for one in ones: B.run_ours(one, 30); B.run_scipy(one, 30)
to=[];ts=[]
for one in ones:
    t=time.perf_counter(); B.run_ours(one, 30); to.append(time.perf_counter()-t)
    t=time.perf_counter(); B.run_scipy(one, 30); ts.append(time.perf_counter()-t)
print("ours", np.median(to)*1e3, "scipy", np.median(ts)*1e3)
cProfile.run('for one in ones: B.run_ours(one, 30)', '/tmp/o2.prof')
pstats.Stats('/tmp/o2.prof').sort_stats('tottime').print_stats(14)

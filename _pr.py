import cProfile, pstats, numpy as np
from threadpoolctl import threadpool_limits
import angd_np.bank as bank
from angd_np import trial_generator
from angd_np.solvers import solve
threadpool_limits(1)
b = bank.load(bank.shipped("paper-m10"))
prob = b.problem() if callable(b.problem) else b.problem
prob = prob[:40]
cProfile.run('solve(prob, "reference", rng=[trial_generator(int(b.seed), int(tr), 1) for tr in b.trials[:40]])', '/tmp/r.prof')
pstats.Stats('/tmp/r.prof').sort_stats('tottime').print_stats(22)

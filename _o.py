import numpy as np, time
import angd_np as an
from threadpoolctl import threadpool_limits
from angd_np import Scenario
from angd_np.solvers import sphere
import benchmarks.lbfgs_scipy as B
from scipy.optimize import minimize
threadpool_limits(1)
cnt=[0]; orig = sphere.value_and_grad
def spy(x, pr, factor=1.0):
    cnt[0]+=1; return orig(x, pr, factor)
for preset in ["paper","balanced"]:
  p = Scenario.preset(preset, n_tx=16, n_users=2).draw(8, rng=4817)
  for T in (30, 50):
    ev_o=[]; ev_s=[]
    for i in range(8):
        one=p[i:i+1]
        sphere.value_and_grad = spy; cnt[0]=0
        an.solve(one, "lbfgs", iters=T, init="zf"); ev_o.append(cnt[0]); sphere.value_and_grad = orig
        res = minimize(B.scipy_fun(one), B.zf_start(one), jac=True, method="L-BFGS-B", options=dict(maxiter=T, ftol=0, gtol=0)); ev_s.append(res.nfev)
    print(preset, T, "evals ours", np.mean(ev_o), "scipy", np.mean(ev_s))

import numpy as np, angd_np as an, time
from threadpoolctl import threadpool_limits

from angd_np import Scenario
from angd_np.solvers.lbfgs import lbfgs
from angd_np.solvers import sphere
from scipy.optimize import minimize
threadpool_limits(1)
for (M,K) in [(16,2),(64,8)]:
    p = Scenario.preset("balanced", n_tx=M, n_users=K).draw(4, rng=5)
    T=80; ta=[];tb=[]; nf=[]
    for _ in range(3):
      for i in range(4):
        one = p[i:i+1]
        t=time.perf_counter(); r=lbfgs(one, iters=T, init="zf"); ta.append(time.perf_counter()-t)
        t=time.perf_counter()
        x0 = sphere.to_x(an.solve(one,"zf").W)[0]
        def fun(z):
            f, g, _ = sphere.value_and_grad(z[None], one, -1.0)
            return -f[0], g[0]
        res=minimize(fun, x0, jac=True, method="L-BFGS-B", options=dict(maxiter=T, ftol=0, gtol=0)); tb.append(time.perf_counter()-t); nf.append(res.nfev)
    print(M,K,"ours", np.median(ta)/T*1e6, "us/iter; scipy", np.median(tb)/T*1e6, "us/iter", np.mean(nf)/T)

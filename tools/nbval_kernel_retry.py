"""pytest plugin for the nbval stage: start a notebook's kernel again if it dies while starting.

Loaded with ``-p nbval_kernel_retry`` (tools/ on PYTHONPATH; see the Makefile's nbval stage).
Kernels that start at the same moment in parallel workers can be handed the same TCP port
(``ZMQError: Address already in use``): the kernel dies before it answers, and every cell of
its notebook errors at setup (seen once, in chapter 6, in a CI run of this project; a known
race of parallel kernels, e.g. nbmake issue #129). That is the machine, not the notebook: a
new kernel, with new ports, is started up to ``ATTEMPTS`` times. A notebook that fails once
it runs is not retried.
"""

import logging

import nbval.kernel

ATTEMPTS = 3
_start_new_kernel = nbval.kernel.start_new_kernel
log = logging.getLogger(__name__)


def start_new_kernel(*args, **kwargs):
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _start_new_kernel(*args, **kwargs)
        except RuntimeError as error:  # "Kernel died before replying to kernel_info"
            if attempt == ATTEMPTS:
                raise
            log.warning("kernel died while starting (%s); starting another (%d of %d)",
                        error, attempt + 1, ATTEMPTS)  # fmt: skip
    raise AssertionError("unreachable")


# RunningKernel looks the function up in its module at each start.
nbval.kernel.start_new_kernel = start_new_kernel

"""Settings of a worker in the fault tests that redelivers a dead worker's task fast.

Production keeps kombu's defaults: an abandoned task is found within about 100 s
of its visibility timeout passing, which is an hour.
"""

from newsroom.settings import *  # noqa: F403 - these settings, plus the two below

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405 - from newsroom.settings
    # Look for tasks whose visibility timeout passed every second, not every 100.
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

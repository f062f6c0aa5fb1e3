"""kombu's Redis transport, with a worker that survives losing Redis while it holds a task.

When the broker's Redis goes away while a worker holds a task it has not yet
acknowledged (a mail waiting for its retry, one being sent), Celery closes the
broken connection, and kombu's Redis QoS tries to give the unacknowledged task
back. By then the connection's client is already torn down, so kombu fails with
``AttributeError: 'NoneType' object has no attribute 'hostname'`` instead of a
connection error, which Celery takes for an unrecoverable error: the worker
exits for good and no code is mailed until a person restarts it.

Here the give-back is skipped when the connection is gone: nothing could reach
Redis at that moment anyway. The task stays in Redis's table of unacknowledged
messages and comes back after the visibility timeout, and the mail's outbox row,
still queued, is re-enqueued by the outbox sweep long before that. Sending is
idempotent, so the copy that comes back later is skipped. Used for redis:// and
rediss:// brokers through ``CELERY_BROKER_TRANSPORT`` (newsroom/settings.py).
"""

import logging

from kombu.transport import redis

logger = logging.getLogger(__name__)


class QoS(redis.QoS):
    def restore_unacked(self, client=None):
        # kombu has no public "is this channel's connection still there?"; the transport's
        # client is what kombu itself reads next, and finds None. ``_delivered`` is the
        # QoS's own record of what it holds, which the base method clears the same way.
        if client is None and self.channel.connection.client is None:
            logger.warning(
                "broker connection lost with %d unacknowledged task(s): Redis redelivers "
                "them after the visibility timeout; the outbox sweep re-enqueues their mail",
                len(self._delivered),
            )
            self._delivered.clear()
            return None
        return super().restore_unacked(client)


class Channel(redis.Channel):
    QoS = QoS


class Transport(redis.Transport):
    Channel = Channel

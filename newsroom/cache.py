"""Django's Redis cache backend, keeping one client per connection pool.

Django's backend builds a new ``redis.Redis`` object for every cache operation;
with redis-py 5 that costs about as much as the round trip itself (it copies the
table of response callbacks each time). A page served from the cache makes one
cache call, so the client is kept and reused. A ``redis.Redis`` object is safe to
share between threads: each command borrows a connection from the pool.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ReusedClientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

vcl 4.1;
# Newsroom behind Varnish: pages kept for long and purged by what they show.
#
# Varnish 7.1 as Debian packages it, with the xkey vmod of `varnish-modules`
# (apt-get install varnish varnish-modules). Render the placeholders first, naming
# them (the rendered file holds the purge token: keep it readable by Varnish only):
#
#   NEWSROOM_BACKEND_HOST=127.0.0.1 NEWSROOM_BACKEND_PORT=8000 \
#   NEWSROOM_PURGE_TOKEN=$EDGE_PURGE_TOKEN NEWSROOM_PURGERS='"10.0.0.0"/24;' \
#   envsubst '$NEWSROOM_BACKEND_HOST $NEWSROOM_BACKEND_PORT $NEWSROOM_PURGE_TOKEN
#             $NEWSROOM_PURGERS' < docs/varnish/newsroom.vcl > /etc/varnish/newsroom.vcl
#   chmod 0640 /etc/varnish/newsroom.vcl && chgrp varnish /etc/varnish/newsroom.vcl
#   varnishd -C -f /etc/varnish/newsroom.vcl >/dev/null && varnishreload
#
# tests/newsroom/test_varnish.py runs this file, rendered, in front of the site, and
# bench/edge.py measures it. docs/OPERATIONS.md ("Varnish in front") explains it.
#
# The site names each public page's tags in `xkey` and, when edits purge this
# Varnish (EDGE_PURGE_URLS), its lifetime here in `Surrogate-Control: max-age=N`;
# browsers and other proxies get the site's Cache-Control unchanged.

import std;
import xkey;

backend newsroom {
    # gunicorn's BIND (or the nginx in front of several web nodes).
    .host = "${NEWSROOM_BACKEND_HOST}";
    .port = "${NEWSROOM_BACKEND_PORT}";
    .connect_timeout = 5s;
    # A little over gunicorn's own 30 s worker timeout, so its answer wins.
    .first_byte_timeout = 35s;
    .between_bytes_timeout = 30s;
}

# Who may purge: the hosts that run the site's Celery workers (and `manage.py edge`).
# Entries as Varnish writes them, each ending in ";": "10.0.0.5"; "10.0.1.0"/24;
acl newsroom_purgers {
    ${NEWSROOM_PURGERS}
}

sub vcl_recv {
    if (req.method == "PURGE") {
        # Not from the workers' network: as if the method did not exist.
        if (client.ip !~ newsroom_purgers) {
            return (synth(405, "Method not allowed"));
        }
        if (req.http.X-Purge-Token != "${NEWSROOM_PURGE_TOKEN}") {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey) {
            return (synth(400, "No xkey header"));
        }
        # A hard purge: the pages are gone at once, none is served stale.
        set req.http.X-Purged = xkey.purge(req.http.xkey);
        return (synth(200, "purged " + req.http.X-Purged));
    }
    unset req.http.X-Purge-Token;

    # The pages the site's page cache marks public for anonymous visitors (the list of
    # docs/nginx/newsroom.conf); anything else passes straight through, never kept.
    if (req.url !~ "^/(\?.*)?$"
        && req.url !~ "^/articles/"
        && req.url !~ "^/topics/"
        && req.url !~ "^/feed/(\?.*)?$"
        && req.url !~ "^/sitemap(-news)?\.xml(\?.*)?$") {
        return (pass);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # Staff (the site sets newsroom_staff when they use the admin), anyone with a
    # session (the contact flow, the admin) and anyone sending credentials: never
    # answered from the cache, and their answers never kept.
    if (req.http.Authorization || req.http.Cookie ~ "(^|;\s*)(newsroom_staff|sessionid)=") {
        return (pass);
    }
    # Any other cookie (analytics, the contact form's own) changes nothing on a public
    # page, and would keep Varnish's built-in rules from looking the page up.
    unset req.http.Cookie;
    return (hash);
}

sub vcl_hash {
    # The TLS terminator in front says which scheme the visitor used: an http
    # request's answer (a redirect) is never an https page's.
    hash_data(req.http.X-Forwarded-Proto);
}

sub vcl_backend_response {
    if (bereq.uncacheable) {
        return (deliver);
    }
    # Only what the site marks public, and never an answer that sets a cookie or is
    # marked private: such an answer is passed for two minutes (hit-for-miss).
    if (beresp.http.Set-Cookie
        || beresp.http.Cache-Control !~ "(^|[\s,])public([\s,]|$)"
        || beresp.http.Cache-Control ~ "(private|no-store|no-cache)") {
        set beresp.ttl = 120s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    # The long lifetime the site gives when it purges this Varnish; without it the
    # lifetime is Cache-Control's s-maxage (PAGE_CACHE_PROXY_SECONDS), as Varnish reads it.
    if (beresp.http.Surrogate-Control ~ "(^|[\s,])max-age=[0-9]+") {
        set beresp.ttl = std.duration(
            regsub(beresp.http.Surrogate-Control, "^.*max-age=([0-9]+).*$", "\1s"), 0s);
    }
    # No grace, no keep: a page whose lifetime ends (the next scheduled story's
    # publish time) is never served stale, and a purged page is gone.
    set beresp.grace = 0s;
    set beresp.keep = 0s;
    return (deliver);
}

sub vcl_deliver {
    # Varnish's own instructions stay here; visitors get Cache-Control only.
    unset resp.http.Surrogate-Control;
    unset resp.http.xkey;
    if (obj.uncacheable) {
        set resp.http.X-Cache = "PASS";
    } elsif (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}

sub vcl_synth {
    if (req.method == "PURGE") {
        set resp.http.Content-Type = "text/plain; charset=utf-8";
        set resp.body = resp.reason + {"
"};
        return (deliver);
    }
}

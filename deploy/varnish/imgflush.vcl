#
# imgflush.vcl: the Varnish node of imgflush (Varnish 7.1+, varnish-modules).
#
# This file caches edge responses, answers the imgflush worker's
# invalidation requests (`PURGE` with X-Purge-* headers) and the console's
# cache probes ("is this URL cached here, and since when?"). It is shipped
# as is and never edited per node: everything that differs between nodes
# lives in a generated include, `imgflush-node.vcl`, found through the
# `vcl_path` parameter (see README.md):
#
#   varnishd -n /var/lib/imgflush/varnish/NODE/work \
#            -a 127.0.0.1:6081 \
#            -p vcl_path=/var/lib/imgflush/varnish/NODE:/etc/varnish:/usr/share/varnish/vcl \
#            -f /abs/path/deploy/varnish/imgflush.vcl
#
# The include must define exactly these three things (mknode.sh writes it):
#
#   backend edge { .host = "127.0.0.1"; .port = "8090"; }   # the edge
#   acl purgers { "127.0.0.1"; "::1"; }                       # who may PURGE
#   sub imgflush_check_secret {                               # the secret
#       if (req.http.X-Purge-Secret == "the-node-secret") {
#           set req.http.X-Imgflush-Auth = "1";
#       }
#   }
#
# The secret is compared in the include rather than read from a file with
# std.fileread(): in Varnish 7.1 that function panics the worker on an empty
# file and keeps serving a file's old content after a reload, and a secret
# copied into a request header would be written to the shared memory log on
# every attempt, right or wrong.
#
# The contract with the edge and the worker is in README.md; in short:
#
# - edge responses carry `xkey: imgflush-t-{token} imgflush-p-{40 hex}
#   [imgflush-g-{40 hex} ...]` (token key, path key, one key per cache tag of
#   the object, at most 16), `X-Imgflush-Token` and `X-Imgflush-Path`; they
#   stay on the cached object (xkey indexes them, bans match them) and are
#   removed from client responses;
# - `PURGE` + X-Purge-Secret + X-Purge-Token + exactly one selector
#   (X-Purge-Key: one path or tag key | X-Purge-All: 1 | X-Purge-Prefix)
#   answers one line of JSON. Path and tag keys are digests that include the
#   token, so one project's path or tag never purges another project's
#   objects on a shared node.
# - probe: `GET` (or `HEAD`) of a variant's client URL with
#   `X-Imgflush-Probe: 1` and the same authentication as PURGE (acl purgers,
#   X-Purge-Secret; refused with the same 403). It looks the URL up exactly
#   as a client request would (same hash: URL + Host) and answers from the
#   lookup alone, never fetching and never creating an object:
#     200 `{"cached": true, "age": A, "ttl": T, "stale": B}`,
#         `X-Imgflush-Probe: hit` (A, T whole seconds, rounded down; T < 0
#         and B true when the object is served from grace);
#     404 `{"cached": false}`, `X-Imgflush-Probe: miss` (nothing cached,
#         a hit-for-miss marker, or only a fetch in progress).
#

vcl 4.1;

import std;
import xkey;

# Per-node configuration (backend `edge`, acl `purgers`, sub
# `imgflush_check_secret`).
# Looked up in `vcl_path`, so one shipped file serves every node.
include "imgflush-node.vcl";

# ---------------------------------------------------------------------------
# Client side
# ---------------------------------------------------------------------------

sub vcl_recv {
    # Internal scratch headers: never accept them from a client.
    unset req.http.X-Imgflush-Auth;
    unset req.http.X-Imgflush-Body;
    unset req.http.X-Imgflush-Removed;
    unset req.http.X-Imgflush-Re;
    unset req.http.X-Imgflush-Kind;
    unset req.http.X-Imgflush-Op;
    unset req.http.X-Imgflush-Answer;

    set req.backend_hint = edge;

    if (req.method == "PURGE") {
        # Always ends in vcl_synth with a JSON answer.
        call imgflush_purge;
    }

    # Only reads reach the edge: a POST to the edge's purge paths (or any
    # other method) is answered here, so no node forwards `/_purge`.
    if (req.method != "GET" && req.method != "HEAD") {
        return (synth(405, "Method Not Allowed"));
    }

    # Images are public: a browser's cookies must neither reach the edge
    # nor turn every request into a pass (the builtin passes on Cookie).
    unset req.http.Cookie;

    if (req.http.X-Imgflush-Probe) {
        # Ends in vcl_synth (refused, or answered from vcl_hit / vcl_miss /
        # vcl_pass); never reaches the edge.
        call imgflush_probe;
    }

    # Automatic format: the edge picks AVIF, else WebP, else the source
    # format from Accept and answers `Vary: Accept`. Varnish keeps one object
    # per distinct Accept value of a Vary'd URL, so every browser string would
    # be its own copy: Accept is reduced here to the three classes the edge
    # tells apart (a type listed with q=0 is refused, as the edge reads it).
    # All of a URL's format objects share its hash, its xkey keys and its
    # path, so every purge removes all of them.
    if (req.http.Accept ~ "(?i)image/avif" &&
        req.http.Accept !~ "(?i)image/avif\s*;\s*q\s*=\s*0(\.0*)?\s*(,|$)") {
        set req.http.Accept = "image/avif,image/webp,*/*";
    } elsif (req.http.Accept ~ "(?i)image/webp" &&
        req.http.Accept !~ "(?i)image/webp\s*;\s*q\s*=\s*0(\.0*)?\s*(,|$)") {
        set req.http.Accept = "image/webp,*/*";
    } else {
        set req.http.Accept = "*/*";
    }

    # The URL is hashed exactly as received (builtin vcl_hash: URL + Host):
    # every query string - every transformation and every `vh` - is its own
    # object. The query is deliberately NOT sorted: signed URLs (`ci_sign`)
    # are computed over the URI as sent, and the edge must see it unchanged.
    #
    # Falls through to the builtin vcl_recv (Host check, Authorization ->
    # pass).
}

sub vcl_deliver {
    # Varnish's own view replaces the edge's, which stays visible.
    if (resp.http.X-Cache) {
        set resp.http.X-Edge-Cache = resp.http.X-Cache;
    }
    if (obj.hits > 0) {
        # A cache hit, including a stale object served in grace while a
        # background fetch refreshes it (e.g. right after a soft purge).
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    # Purge metadata stays on the cached object, never goes to clients.
    unset resp.http.xkey;
    unset resp.http.X-Imgflush-Token;
    unset resp.http.X-Imgflush-Path;
    # `Age` is kept (set by Varnish).
}

sub vcl_synth {
    if (req.http.X-Imgflush-Op) {
        # Every answer to PURGE and to a probe is one line of JSON, never
        # cached.
        set resp.http.Content-Type = "application/json";
        set resp.http.Cache-Control = "no-store";
        if (req.http.X-Imgflush-Body) {
            synthetic(req.http.X-Imgflush-Body);
        } else {
            # resp.reason is one of this file's constant messages (no quotes).
            synthetic({"{"error": ""} + resp.reason + {"""} + "}");
        }
        if (req.http.X-Imgflush-Answer) {
            set resp.http.X-Imgflush-Probe = req.http.X-Imgflush-Answer;
        }
        return (deliver);
    }
    if (resp.status == 405) {
        set resp.http.Allow = "GET, HEAD";
        set resp.http.Cache-Control = "no-store";
    }
}

# ---------------------------------------------------------------------------
# Invalidation: PURGE
# ---------------------------------------------------------------------------
#
# Order: authorisation (403, one message for ACL miss, missing and wrong
# secret), then validation (400), then the action (200). A request never
# learns anything about the node's configuration without the secret.

sub imgflush_purge {
    set req.http.X-Imgflush-Op = "purge";
    # 1. + 2. ACL, then secret.
    call imgflush_authorize;

    # 3. Validation. Duplicated headers are joined first ("a, b"), so they
    #    fail the patterns below instead of silently using the first one.
    std.collect(req.http.X-Purge-Token);
    std.collect(req.http.X-Purge-Key);
    std.collect(req.http.X-Purge-All);
    std.collect(req.http.X-Purge-Prefix);
    std.collect(req.http.X-Purge-Soft);

    if (req.http.X-Purge-Token !~ "^[a-z0-9][a-z0-9-]{1,31}$") {
        return (synth(400, "missing or invalid X-Purge-Token"));
    }
    if (!req.http.X-Purge-Soft) {
        set req.http.X-Purge-Soft = "0";
    } elsif (req.http.X-Purge-Soft !~ "^[01]$") {
        return (synth(400, "invalid X-Purge-Soft (expected 1 or 0)"));
    }
    if ((req.http.X-Purge-Key && (req.http.X-Purge-All || req.http.X-Purge-Prefix)) ||
        (req.http.X-Purge-All && req.http.X-Purge-Prefix)) {
        return (synth(400, "more than one selector (X-Purge-Key, X-Purge-All, X-Purge-Prefix)"));
    }

    if (req.http.X-Purge-Key) {
        # One path key (all variants of one origin path) or one tag key
        # (every object carrying one cache tag of the project). Both are
        # digests over the token, so one project's path or tag (`products`)
        # never matches another project's objects on a shared node. A token
        # key is refused: that is X-Purge-All.
        if (req.http.X-Purge-Key ~ "^imgflush-p-[0-9a-f]{40}$") {
            set req.http.X-Imgflush-Kind = "path";
        } elsif (req.http.X-Purge-Key ~ "^imgflush-g-[0-9a-f]{40}$") {
            set req.http.X-Imgflush-Kind = "tag";
        } else {
            return (synth(400, "invalid X-Purge-Key"));
        }
        call imgflush_xkey;
    } elsif (req.http.X-Purge-All) {
        # Every object of the token.
        if (req.http.X-Purge-All != "1") {
            return (synth(400, "invalid X-Purge-All (expected 1)"));
        }
        set req.http.X-Purge-Key = "imgflush-t-" + req.http.X-Purge-Token;
        set req.http.X-Imgflush-Kind = "token";
        call imgflush_xkey;
    } elsif (req.http.X-Purge-Prefix) {
        call imgflush_prefix_ban;
    }
    return (synth(400, "missing selector (X-Purge-Key, X-Purge-All or X-Purge-Prefix)"));
}

# The gate in front of PURGE and probes, one for both: the same 403 for
# every refusal, logged as "imgflush-{purge|probe} refused ...".
sub imgflush_authorize {
    # 1. Network: the client address must be in `acl purgers` (include).
    #    client.ip is the peer, or the PROXY-protocol address when the node
    #    listens with PROXY behind a load balancer.
    if (client.ip !~ purgers) {
        std.log("imgflush-" + req.http.X-Imgflush-Op + " refused client=" + client.ip + " reason=acl");
        return (synth(403, "forbidden"));
    }

    # 2. Shared secret: X-Purge-Secret must equal the node's secret, exactly
    #    (the include compares and sets X-Imgflush-Auth). Missing, empty or
    #    sent twice (joined to "a, b"): refused.
    std.collect(req.http.X-Purge-Secret);
    if (req.http.X-Purge-Secret && req.http.X-Purge-Secret != "") {
        call imgflush_check_secret;
    }
    if (req.http.X-Imgflush-Auth != "1") {
        std.log("imgflush-" + req.http.X-Imgflush-Op + " refused client=" + client.ip + " reason=secret");
        return (synth(403, "forbidden"));
    }
    unset req.http.X-Imgflush-Auth;
    unset req.http.X-Purge-Secret;
}

# Hard or soft xkey purge of req.http.X-Purge-Key (one validated key of
# kind req.http.X-Imgflush-Kind: path, tag or token).
sub imgflush_xkey {
    if (req.http.X-Purge-Soft == "1") {
        # TTL set to now; objects stay servable for the rest of their grace
        # and are refreshed by a background fetch on the next request.
        # Counts objects that were still fresh.
        set req.http.X-Imgflush-Removed = xkey.softpurge(req.http.X-Purge-Key);
        set req.http.X-Imgflush-Body = {"{"removed": "} + req.http.X-Imgflush-Removed + {", "soft": true}"};
    } else {
        # Objects go at once for every request after this one, but xkey
        # drops them from its index only when Varnish's expiry thread has
        # removed them: a second purge of the key sent within milliseconds
        # may count some of them again (the count is an upper bound then).
        set req.http.X-Imgflush-Removed = xkey.purge(req.http.X-Purge-Key);
        set req.http.X-Imgflush-Body = {"{"removed": "} + req.http.X-Imgflush-Removed + "}";
    }
    std.log("imgflush-purge id=" + req.http.X-Invalidation-Id +
        " token=" + req.http.X-Purge-Token +
        " kind=" + req.http.X-Imgflush-Kind +
        " key=" + req.http.X-Purge-Key +
        " path=" + req.http.X-Purge-Path +
        " soft=" + req.http.X-Purge-Soft +
        " removed=" + req.http.X-Imgflush-Removed);
    return (synth(200, "OK"));
}

# Prefix ban: objects of the token whose X-Imgflush-Path starts with the
# prefix. Only obj.* fields, so the ban lurker evicts matching objects in the
# background (and lookups skip them at once). Always hard: X-Purge-Soft is
# ignored here.
sub imgflush_prefix_ban {
    # A canonical path: starts with "/", printable ASCII without space,
    # '"' and "'"; at most 2048 bytes (the path rule of the product).
    if (req.http.X-Purge-Prefix !~ "^/[!#-&(-~]{0,2047}$") {
        return (synth(400, "invalid X-Purge-Prefix"));
    }
    # Escape every non-alphanumeric character: in PCRE a backslash before a
    # non-alphanumeric character always means that character literally, so
    # `.`, `(`, `+`, `$`, `[` ... match only themselves.
    set req.http.X-Imgflush-Re = regsuball(req.http.X-Purge-Prefix, "([^A-Za-z0-9])", "\\\1");
    if (!std.ban("obj.http.X-Imgflush-Token == " + req.http.X-Purge-Token +
        " && obj.http.X-Imgflush-Path ~ ^" + req.http.X-Imgflush-Re)) {
        std.log("imgflush-purge ban failed: " + std.ban_error());
        return (synth(500, "ban failed"));
    }
    std.log("imgflush-purge id=" + req.http.X-Invalidation-Id +
        " token=" + req.http.X-Purge-Token +
        " prefix=" + req.http.X-Purge-Prefix +
        " ban=accepted");
    set req.http.X-Imgflush-Body = {"{"ban": "accepted""} + "}";
    return (synth(200, "OK"));
}

# ---------------------------------------------------------------------------
# Probe: is this URL cached here?
# ---------------------------------------------------------------------------
#
# Support's question "my customers still see the old image": the console
# asks every node about one variant URL. The answer comes from the cache
# lookup alone: a hit is answered in vcl_hit instead of being delivered (no
# background fetch even when stale, no LRU touch), everything else in
# vcl_miss / vcl_pass instead of fetching (the lookup's placeholder is
# withdrawn, nothing is stored). An unauthenticated probe is refused before
# the lookup, so clients cannot read cache state with it.

sub imgflush_probe {
    set req.http.X-Imgflush-Op = "probe";
    call imgflush_authorize;
    std.collect(req.http.X-Imgflush-Probe);
    if (req.http.X-Imgflush-Probe != "1") {
        return (synth(400, "invalid X-Imgflush-Probe (expected 1)"));
    }
    # An object still being fetched is not cached yet: answer "miss" at once
    # rather than wait for that fetch on its waiting list.
    set req.hash_ignore_busy = true;
    # Normalise Host exactly as for clients (builtin), then look up: the
    # builtin's passes (Authorization) describe the request, not the cache.
    call vcl_req_host;
    return (hash);
}

sub vcl_hit {
    if (req.http.X-Imgflush-Op == "probe") {
        call imgflush_probe_hit;
    }
    # builtin: deliver (a stale object also starts a background fetch)
}

sub vcl_miss {
    if (req.http.X-Imgflush-Op == "probe") {
        call imgflush_probe_miss;
    }
}

sub vcl_pass {
    # A hit-for-pass object (none is made by this file today) is not cached.
    if (req.http.X-Imgflush-Op == "probe") {
        call imgflush_probe_miss;
    }
}

# age: whole seconds since the object was fetched (or revalidated). ttl:
# whole seconds of freshness left, rounded down, so 0 or more while fresh and
# -1 or less once the object is only served from grace (expired or
# soft-purged): `stale` is exactly `ttl < 0`. (std.integer() truncates
# towards zero, which would turn a just-expired object's -0.5 into 0.)
sub imgflush_probe_hit {
    set req.http.X-Imgflush-Answer = "hit";
    if (obj.ttl > 0s) {
        set req.http.X-Imgflush-Body = {"{"cached": true, "age": "} + std.integer(duration=obj.age) +
            {", "ttl": "} + std.integer(duration=obj.ttl) + {", "stale": false}"};
    } else {
        set req.http.X-Imgflush-Body = {"{"cached": true, "age": "} + std.integer(duration=obj.age) +
            {", "ttl": "} + (0 - 1 - std.integer(duration=0s - obj.ttl)) + {", "stale": true}"};
    }
    std.log("imgflush-probe hit host=" + req.http.Host + " url=" + req.url +
        " age=" + obj.age + " ttl=" + obj.ttl);
    return (synth(200, "OK"));
}

sub imgflush_probe_miss {
    set req.http.X-Imgflush-Answer = "miss";
    set req.http.X-Imgflush-Body = {"{"cached": false}"};
    std.log("imgflush-probe miss host=" + req.http.Host + " url=" + req.url);
    return (synth(404, "Not Found"));
}

# ---------------------------------------------------------------------------
# Backend side
# ---------------------------------------------------------------------------

sub vcl_backend_response {
    if (bereq.uncacheable) {
        # pass (e.g. Authorization): nothing to decide.
        return (deliver);
    }

    # While refreshing a stale object in the background (after a soft purge
    # or TTL expiry), an edge failure must not replace the last good copy:
    # keep serving it for the rest of its grace.
    if (bereq.is_bgfetch && beresp.status >= 500) {
        return (abandon);
    }

    # beresp.ttl already follows Cache-Control, s-maxage before max-age
    # (then Expires), minus Age. Cache only what the edge explicitly allows.
    if (beresp.ttl <= 0s ||
        beresp.http.Set-Cookie ||
        beresp.http.Cache-Control ~ "(?i)(no-store|no-cache|private)" ||
        beresp.http.Vary == "*" ||
        (beresp.http.Cache-Control !~ "(?i)(^|[ ,])(s-maxage|max-age)=[0-9]" &&
         !beresp.http.Expires)) {
        call imgflush_hit_for_miss;
    }

    # Grace: how long an expired or soft-purged object may still be served
    # (once per refresh) while a background fetch gets a fresh one.
    set beresp.grace = 1h;

    # Negative answers: cached only because the edge said so (above), and
    # only briefly, without grace.
    if (beresp.status == 404 || beresp.status == 410) {
        if (beresp.ttl > 60s) {
            set beresp.ttl = 60s;
        }
        set beresp.grace = 0s;
    }
    return (deliver);
}

# Not cached: remember "go to the edge" for a minute (no request coalescing
# on this URL meanwhile). No xkey: purge counts are counts of cached images.
sub imgflush_hit_for_miss {
    unset beresp.http.xkey;
    set beresp.ttl = 60s;
    set beresp.grace = 0s;
    set beresp.uncacheable = true;
    return (deliver);
}

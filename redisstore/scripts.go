package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// script is a Lua script, run with EVAL. go-redis's Script hashes its
// source with SHA-1 (for EVALSHA) when it is made, and SHA-1 panics in Go's
// FIPS 140-only mode (GODEBUG=fips140=only): package-level Scripts would
// crash every program that imports this package in that mode, before main.
// EVAL sends the source each time instead; the scripts are a few hundred
// bytes, they run on revocations, logins and purges only, and Redis keeps
// their compiled form in its script cache.
type script string

func (sc script) run(ctx context.Context, c redis.Scripter, keys []string, args ...any) *redis.Cmd {
	return c.Eval(ctx, string(sc), keys, args...)
}

// revokeScript records one revocation and announces it, atomically.
//
//	KEYS[1] the revocation hash, KEYS[2] its expiry sorted set
//	ARGV[1] field, ARGV[2] value, ARGV[3] expires (ms),
//	ARGV[4] notBefore (ms) for a subject entry, "" for a session entry,
//	ARGV[5] the channel
//
// A subject entry does not replace one with a later NotBefore (an equal one
// it replaces, as sealed.MemoryStore does). It returns 1 if it recorded the
// entry, 0 if not.
var revokeScript = script(`
local f, v = ARGV[1], ARGV[2]
if ARGV[4] ~= '' then
	local old = redis.call('HGET', KEYS[1], f)
	if old then
		local nb = tonumber(string.match(old, '^(%-?%d+):'))
		if nb and nb > tonumber(ARGV[4]) then
			return 0
		end
	end
end
redis.call('HSET', KEYS[1], f, v)
redis.call('ZADD', KEYS[2], ARGV[3], f)
redis.call('PUBLISH', ARGV[5], string.len(f) .. ':' .. f .. v)
return 1
`)

// purgeScript drops up to ARGV[2] entries that expired at or before
// ARGV[1] (ms) and returns how many it dropped.
//
//	KEYS[1] the revocation hash, KEYS[2] its expiry sorted set
var purgeScript = script(`
local fs = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #fs > 0 then
	redis.call('HDEL', KEYS[1], unpack(fs))
	redis.call('ZREM', KEYS[2], unpack(fs))
end
return #fs
`)

// registerScript records one session of a subject's device list.
//
//	KEYS[1] the subject's hash
//	ARGV[1] the field (ID) the session replaces, or "", ARGV[2] its field,
//	ARGV[3] its record, ARGV[4] its expiry (ms)
//
// The key expires with the latest record it holds.
var registerScript = script(`
if ARGV[1] ~= '' and ARGV[1] ~= ARGV[2] then
	redis.call('HDEL', KEYS[1], ARGV[1])
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
local exp = tonumber(ARGV[4])
local pttl = redis.call('PTTL', KEYS[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if pttl < 0 or now + pttl < exp then
	redis.call('PEXPIREAT', KEYS[1], exp)
end
return 1
`)

/*
 * A keyed permutation of [0, n) in O(1) memory: a 4-round Feistel network on the smallest
 * even number of bits covering n, with cycle walking back into [0, n). Same (n, seed, epoch),
 * same order, on every host.
 */
#include "internal.h"

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void rl_perm_init(struct rl_perm *p, uint64_t n, uint64_t seed, uint64_t epoch)
{
    unsigned bits = 2;
    while (bits < 64 && (n - 1) >> bits)
        bits += 2;
    p->n = n;
    p->half = bits / 2;
    p->k0 = mix(seed ^ mix(epoch));
    p->k1 = mix(p->k0 + 0x632be59bd9b4e019ull);
}

static uint64_t feistel(const struct rl_perm *p, uint64_t x)
{
    const uint64_t mask = (p->half >= 64 ? ~0ull : (1ull << p->half) - 1);
    uint64_t l = (x >> p->half) & mask, r = x & mask;
    for (unsigned round = 0; round < 4; round++) {
        uint64_t f = mix(r ^ (round & 1 ? p->k1 : p->k0) ^ ((uint64_t)round << 56)) & mask;
        uint64_t t = l ^ f;
        l = r;
        r = t;
    }
    return (l << p->half) | r;
}

uint64_t rl_perm_at(const struct rl_perm *p, uint64_t i)
{
    uint64_t x = i;
    do {
        x = feistel(p, x);
    } while (x >= p->n);
    return x;
}

/* hw_auth.c -- ES256 bearer tokens: verify (algorithm pinned) and mint. */
#include "hw_auth.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A real token is a few hundred bytes; anything near this is an attack or a
 * mistake, and refusing early bounds the work done on untrusted input. */
#define HW_JWT_MAX_LEN 8192
/* Clock skew allowed between the issuer and us, for exp and nbf. */
#define HW_JWT_LEEWAY_S 30
/* ES256 signature: r and s, 32 bytes each, big-endian (RFC 7518 3.4). */
#define HW_ES256_SIG_LEN 64
#define HW_ES256_COORD_LEN 32

/* Tokens already verified, by SHA-256 of the whole token. An app sends the
 * same token on every call until it expires; verifying it (base64, JSON and
 * above all the ECDSA verify) was most of the cost of a small call. What a
 * token says cannot change without changing its bytes, and the issuer and
 * audience are fixed for an hw_auth, so only exp and nbf are checked again
 * on each call against the clock. Direct-mapped: a newer token takes the
 * slot of an older one. */
#define HW_TOKEN_CACHE_SLOTS 1024
#define HW_SHA256_LEN 32

typedef struct hw_token_entry {
    unsigned char digest[HW_SHA256_LEN];
    bool used;
    double exp, nbf;
    bool has_nbf;
    hw_principal who; /* homes owned by the entry */
} hw_token_entry;

typedef struct hw_token_cache {
    pthread_mutex_t lock;
    hw_token_entry slot[HW_TOKEN_CACHE_SLOTS];
} hw_token_cache;

struct hw_auth {
    EVP_PKEY *pub;
    EVP_MD *sha256;
    char issuer[256];
    char audience[256];
    hw_token_cache *cache; /* mutable behind a const hw_auth */
};

bool hw_principal_has_role(const hw_principal *p, const char *role)
{
    for (int i = 0; i < p->n_roles; i++)
        if (strcmp(p->roles[i], role) == 0)
            return true;
    return false;
}

bool hw_principal_has_home(const hw_principal *p, const char *home_id)
{
    for (int i = 0; i < p->n_homes; i++)
        if (strcmp(p->homes[i], home_id) == 0)
            return true;
    return false;
}

void hw_principal_release(hw_principal *p)
{
    if (!p)
        return;
    free(p->homes);
    p->homes = NULL;
    p->n_homes = 0;
}

/* ---- base64url without padding (RFC 7515 2) ---- */

static const char hw__b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int hw__b64url_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/* Returns a malloc'd NUL-terminated string. */
static char *hw__b64url_encode(const unsigned char *in, size_t n)
{
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = hw__b64url[v >> 18 & 63];
        out[o++] = hw__b64url[v >> 12 & 63];
        out[o++] = hw__b64url[v >> 6 & 63];
        out[o++] = hw__b64url[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = hw__b64url[v >> 18 & 63];
        out[o++] = hw__b64url[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = hw__b64url[v >> 18 & 63];
        out[o++] = hw__b64url[v >> 12 & 63];
        out[o++] = hw__b64url[v >> 6 & 63];
    }
    out[o] = '\0';
    return out;
}

/* Strict decode of n characters: alphabet only, no padding, no impossible
 * length, unused trailing bits zero (so each value has one encoding).
 * Returns a malloc'd buffer (NUL-terminated for convenience) or NULL. */
static unsigned char *hw__b64url_decode(const char *in, size_t n, size_t *out_len)
{
    if (n % 4 == 1)
        return NULL;
    unsigned char *out = malloc(n / 4 * 3 + 3);
    if (!out)
        return NULL;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = hw__b64url_val((unsigned char)in[i]);
        if (v < 0)
            goto out_free;
        acc = (acc << 6 | (unsigned)v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits & 0xFF);
        }
    }
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        goto out_free;
    out[o] = '\0';
    *out_len = o;
    return out;
out_free:
    free(out);
    return NULL;
}

/* ---- keys ---- */

static bool hw__is_p256(EVP_PKEY *k)
{
    char group[64];
    size_t glen = 0;
    if (!EVP_PKEY_is_a(k, "EC"))
        return false;
    if (!EVP_PKEY_get_group_name(k, group, sizeof group, &glen))
        return false;
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

hw_auth *hw_auth_create(const char *pubkey_pem, const char *issuer,
                        const char *audience, char *err, size_t errlen)
{
    if (!pubkey_pem || !issuer || !audience || !*issuer || !*audience) {
        snprintf(err, errlen, "auth: public key, issuer and audience are required");
        return NULL;
    }
    if (strlen(issuer) >= sizeof((hw_auth *)0)->issuer ||
        strlen(audience) >= sizeof((hw_auth *)0)->audience) {
        snprintf(err, errlen, "auth: issuer or audience too long");
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(pubkey_pem, -1);
    if (!bio) {
        snprintf(err, errlen, "auth: out of memory");
        return NULL;
    }
    EVP_PKEY *k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!k) {
        snprintf(err, errlen, "auth: not a PEM public key");
        return NULL;
    }
    if (!hw__is_p256(k)) {
        snprintf(err, errlen, "auth: public key is not EC P-256 (ES256)");
        EVP_PKEY_free(k);
        return NULL;
    }
    hw_auth *a = calloc(1, sizeof *a);
    if (a && (!(a->cache = calloc(1, sizeof *a->cache)) ||
              !(a->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)))) {
        free(a->cache);
        free(a);
        a = NULL;
    }
    if (!a) {
        EVP_PKEY_free(k);
        snprintf(err, errlen, "auth: out of memory");
        return NULL;
    }
    pthread_mutex_init(&a->cache->lock, NULL);
    a->pub = k;
    snprintf(a->issuer, sizeof a->issuer, "%s", issuer);
    snprintf(a->audience, sizeof a->audience, "%s", audience);
    return a;
}

void hw_auth_free(hw_auth *a)
{
    if (!a)
        return;
    for (int i = 0; i < HW_TOKEN_CACHE_SLOTS; i++)
        free(a->cache->slot[i].who.homes);
    pthread_mutex_destroy(&a->cache->lock);
    free(a->cache);
    EVP_MD_free(a->sha256);
    EVP_PKEY_free(a->pub);
    free(a);
}

/* ---- verification ---- */

/* Raw r||s -> DER ECDSA-Sig-Value, which is what OpenSSL verifies. */
static unsigned char *hw__sig_raw_to_der(const unsigned char *raw, int *der_len)
{
    unsigned char *der = NULL;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, HW_ES256_COORD_LEN, NULL);
    BIGNUM *s = BN_bin2bn(raw + HW_ES256_COORD_LEN, HW_ES256_COORD_LEN, NULL);
    if (!sig || !r || !s)
        goto out_free_bn;
    if (!ECDSA_SIG_set0(sig, r, s))
        goto out_free_bn;
    r = s = NULL; /* now owned by sig */
    *der_len = i2d_ECDSA_SIG(sig, &der);
    if (*der_len <= 0)
        der = NULL;
out_free_bn:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return der;
}

static bool hw__es256_verify(EVP_PKEY *pub, const char *input, size_t input_len,
                             const unsigned char *raw_sig)
{
    int der_len = 0;
    bool ok = false;
    unsigned char *der = hw__sig_raw_to_der(raw_sig, &der_len);
    if (!der)
        return false;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        goto out_free_der;
    if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) != 1)
        goto out_free_ctx;
    ok = EVP_DigestVerify(ctx, der, (size_t)der_len, (const unsigned char *)input,
                          input_len) == 1;
out_free_ctx:
    EVP_MD_CTX_free(ctx);
out_free_der:
    OPENSSL_free(der);
    return ok;
}

/* Copy a JSON string claim into dst. Refuses non-strings, empty strings
 * (when required), embedded NULs and anything that would not fit. */
static int hw__claim_str(json_t *v, char *dst, size_t dstlen, bool nonempty)
{
    if (!json_is_string(v))
        return -1;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n != strlen(s) || n >= dstlen || (nonempty && n == 0))
        return -1;
    memcpy(dst, s, n + 1);
    return 0;
}

static bool hw__aud_matches(json_t *aud, const char *want)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    if (json_is_array(aud)) {
        size_t i;
        json_t *v;
        if (json_array_size(aud) > 32)
            return false;
        json_array_foreach(aud, i, v)
            if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
                return true;
    }
    return false;
}

#define HW__FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); goto out; } while (0)

static int hw__check_claims(const hw_auth *a, json_t *c, int64_t now_s, hw_principal *p,
                            char *err, size_t errlen)
{
    int rc = -1;
    /* Ours until success hands it to p; p may hold the caller's garbage
     * before the memset below, so never free through p on failure. */
    char (*homes_buf)[HW_HOME_ID_MAX] = NULL;
    if (!json_is_object(c))
        HW__FAIL("token: claims are not a JSON object");

    json_t *exp = json_object_get(c, "exp");
    if (!exp)
        HW__FAIL("token: exp missing");
    if (!json_is_number(exp))
        HW__FAIL("token: exp is not a number");
    if (json_number_value(exp) + HW_JWT_LEEWAY_S < (double)now_s)
        HW__FAIL("token: expired");
    json_t *nbf = json_object_get(c, "nbf");
    if (nbf) {
        if (!json_is_number(nbf))
            HW__FAIL("token: nbf is not a number");
        if (json_number_value(nbf) - HW_JWT_LEEWAY_S > (double)now_s)
            HW__FAIL("token: not valid yet (nbf)");
    }
    json_t *iss = json_object_get(c, "iss");
    if (!json_is_string(iss) || strcmp(json_string_value(iss), a->issuer) != 0)
        HW__FAIL("token: wrong or missing issuer");
    json_t *aud = json_object_get(c, "aud");
    if (!aud || !hw__aud_matches(aud, a->audience))
        HW__FAIL("token: audience does not include this service");

    memset(p, 0, sizeof *p);
    if (hw__claim_str(json_object_get(c, "sub"), p->sub, sizeof p->sub, true) != 0)
        HW__FAIL("token: sub missing or invalid");
    if (hw__claim_str(json_object_get(c, "org"), p->org, sizeof p->org, true) != 0)
        HW__FAIL("token: org missing or invalid");
    json_t *name = json_object_get(c, "name");
    if (name && !json_is_null(name) && hw__claim_str(name, p->name, sizeof p->name, false) != 0)
        HW__FAIL("token: name invalid");

    json_t *roles = json_object_get(c, "roles");
    if (!json_is_array(roles) || json_array_size(roles) == 0)
        HW__FAIL("token: roles missing or empty");
    if (json_array_size(roles) > HW_MAX_ROLES)
        HW__FAIL("token: too many roles (max %d)", HW_MAX_ROLES);
    size_t i;
    json_t *v;
    json_array_foreach(roles, i, v) {
        if (hw__claim_str(v, p->roles[i], sizeof p->roles[i], true) != 0)
            HW__FAIL("token: roles[%zu] invalid", i);
        p->n_roles++;
    }
    json_t *homes = json_object_get(c, "homes");
    if (homes && !json_is_null(homes)) {
        if (!json_is_array(homes))
            HW__FAIL("token: homes is not an array");
        size_t n_homes = json_array_size(homes);
        if (n_homes > HW_MAX_HOMES)
            HW__FAIL("token: too many homes (max %d)", HW_MAX_HOMES);
        if (n_homes > 0) {
            /* Exactly sized: a principal sits in every call record. */
            homes_buf = malloc(n_homes * sizeof *homes_buf);
            if (!homes_buf)
                HW__FAIL("token: out of memory");
        }
        json_array_foreach(homes, i, v) {
            if (hw__claim_str(v, homes_buf[i], sizeof homes_buf[i], true) != 0)
                HW__FAIL("token: homes[%zu] invalid", i);
        }
        p->homes = homes_buf;
        p->n_homes = (int)n_homes;
        homes_buf = NULL;
    }
    rc = 0;
out:
    free(homes_buf);
    if (rc != 0)
        memset(p, 0, sizeof *p);
    return rc;
}

static hw_token_entry *cache_slot(const hw_auth *a, const unsigned char *digest)
{
    return &a->cache->slot[((size_t)digest[0] << 8 | digest[1]) % HW_TOKEN_CACHE_SLOTS];
}

/* 0 (out filled) when the token was verified before and its time claims hold
 * now; -1 (err set, out zeroed) when they do not; -2 when it is not known. */
static int cache_lookup(const hw_auth *a, const unsigned char *digest, int64_t now_s,
                        hw_principal *out, char *err, size_t errlen)
{
    int rc = -2;
    char (*homes)[HW_HOME_ID_MAX] = NULL;
    pthread_mutex_lock(&a->cache->lock);
    hw_token_entry *e = cache_slot(a, digest);
    if (e->used && memcmp(e->digest, digest, HW_SHA256_LEN) == 0) {
        if (e->exp + HW_JWT_LEEWAY_S < (double)now_s) {
            snprintf(err, errlen, "token: expired");
            rc = -1;
        } else if (e->has_nbf && e->nbf - HW_JWT_LEEWAY_S > (double)now_s) {
            snprintf(err, errlen, "token: not valid yet (nbf)");
            rc = -1;
        } else if (e->who.n_homes > 0 &&
                   !(homes = malloc((size_t)e->who.n_homes * sizeof *homes))) {
            rc = -2; /* out of memory: verify it the long way */
        } else {
            *out = e->who;
            out->homes = homes;
            if (homes)
                memcpy(homes, e->who.homes, (size_t)e->who.n_homes * sizeof *homes);
            rc = 0;
        }
    }
    pthread_mutex_unlock(&a->cache->lock);
    if (rc == -1)
        memset(out, 0, sizeof *out);
    return rc;
}

static void cache_store(const hw_auth *a, const unsigned char *digest, json_t *claims,
                        const hw_principal *who)
{
    char (*homes)[HW_HOME_ID_MAX] = NULL;
    if (who->n_homes > 0) {
        homes = malloc((size_t)who->n_homes * sizeof *homes);
        if (!homes)
            return; /* not remembered: verified again next time */
        memcpy(homes, who->homes, (size_t)who->n_homes * sizeof *homes);
    }
    json_t *nbf = json_object_get(claims, "nbf");
    pthread_mutex_lock(&a->cache->lock);
    hw_token_entry *e = cache_slot(a, digest);
    free(e->who.homes);
    memcpy(e->digest, digest, HW_SHA256_LEN);
    e->used = true;
    e->exp = json_number_value(json_object_get(claims, "exp"));
    e->has_nbf = nbf != NULL;
    e->nbf = nbf ? json_number_value(nbf) : 0;
    e->who = *who;
    e->who.homes = homes;
    pthread_mutex_unlock(&a->cache->lock);
}

int hw_auth_verify(const hw_auth *a, const char *token, int64_t now_s,
                   hw_principal *out, char *err, size_t errlen)
{
    int rc = -1;
    unsigned char *hdr_raw = NULL, *sig = NULL, *body_raw = NULL;
    json_t *hdr = NULL, *claims = NULL;
    size_t hdr_len = 0, sig_len = 0, body_len = 0;

    if (!a || !token || !out)
        HW__FAIL("token: missing");
    size_t n = strnlen(token, HW_JWT_MAX_LEN + 1);
    if (n > HW_JWT_MAX_LEN)
        HW__FAIL("token: too long");
    const char *dot1 = memchr(token, '.', n);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', n - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot1 || !dot2 || memchr(dot2 + 1, '.', n - (size_t)(dot2 + 1 - token)))
        HW__FAIL("token: not a compact JWS (three dot-separated parts)");

    /* 0. A token verified before: only the clock is checked again. */
    unsigned char digest[HW_SHA256_LEN];
    unsigned int digest_len = 0;
    bool hashed = EVP_Digest(token, n, digest, &digest_len, a->sha256, NULL) == 1 &&
                  digest_len == HW_SHA256_LEN;
    if (hashed) {
        int known = cache_lookup(a, digest, now_s, out, err, errlen);
        if (known >= 0)
            return known;
    }

    /* 1. The header, and the algorithm pinned, before any cryptography. */
    hdr_raw = hw__b64url_decode(token, (size_t)(dot1 - token), &hdr_len);
    if (!hdr_raw)
        HW__FAIL("token: header is not base64url");
    hdr = json_loadb((const char *)hdr_raw, hdr_len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(hdr))
        HW__FAIL("token: header is not a JSON object");
    json_t *alg = json_object_get(hdr, "alg");
    if (!json_is_string(alg) || strcmp(json_string_value(alg), "ES256") != 0 ||
        json_string_length(alg) != 5)
        HW__FAIL("token: algorithm must be ES256");
    json_t *typ = json_object_get(hdr, "typ");
    if (typ && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0))
        HW__FAIL("token: typ must be JWT");
    /* Extensions we do not understand must not be silently ignored (RFC 7515 4.1.11). */
    if (json_object_get(hdr, "crit"))
        HW__FAIL("token: critical header extensions are not supported");

    /* 2. The signature over "header.payload". */
    sig = hw__b64url_decode(dot2 + 1, n - (size_t)(dot2 + 1 - token), &sig_len);
    if (!sig)
        HW__FAIL("token: signature is not base64url");
    if (sig_len != HW_ES256_SIG_LEN)
        HW__FAIL("token: signature has the wrong length for ES256");
    if (!hw__es256_verify(a->pub, token, (size_t)(dot2 - token), sig))
        HW__FAIL("token: bad signature");

    /* 3. Only now read the claims: they are signed by our issuer. */
    body_raw = hw__b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &body_len);
    if (!body_raw)
        HW__FAIL("token: payload is not base64url");
    claims = json_loadb((const char *)body_raw, body_len, JSON_REJECT_DUPLICATES, NULL);
    if (!claims)
        HW__FAIL("token: payload is not JSON");
    rc = hw__check_claims(a, claims, now_s, out, err, errlen);
    if (rc == 0 && hashed)
        cache_store(a, digest, claims, out);
out:
    /* A refused token leaves an empty principal with nothing allocated. */
    if (rc != 0 && out)
        memset(out, 0, sizeof *out);
    json_decref(claims);
    json_decref(hdr);
    free(body_raw);
    free(sig);
    free(hdr_raw);
    return rc;
}

/* ---- minting (development tokens, tests) ---- */

static int hw__es256_sign(EVP_PKEY *key, const char *input, size_t len,
                          unsigned char raw[HW_ES256_SIG_LEN])
{
    int rc = -1;
    unsigned char *der = NULL;
    size_t der_len = 0;
    ECDSA_SIG *sig = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -1;
    if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1)
        goto out_free_ctx;
    if (EVP_DigestSign(ctx, NULL, &der_len, (const unsigned char *)input, len) != 1)
        goto out_free_ctx;
    der = OPENSSL_malloc(der_len);
    if (!der)
        goto out_free_ctx;
    if (EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)input, len) != 1)
        goto out_free_der;
    const unsigned char *p = der;
    sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!sig)
        goto out_free_der;
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, raw, HW_ES256_COORD_LEN) != HW_ES256_COORD_LEN ||
        BN_bn2binpad(s, raw + HW_ES256_COORD_LEN, HW_ES256_COORD_LEN) != HW_ES256_COORD_LEN)
        goto out_free_sig;
    rc = 0;
out_free_sig:
    ECDSA_SIG_free(sig);
out_free_der:
    OPENSSL_free(der);
out_free_ctx:
    EVP_MD_CTX_free(ctx);
    return rc;
}

char *hw_jwt_mint_es256(const char *privkey_pem, const char *claims_json,
                        char *err, size_t errlen)
{
    char *token = NULL, *h64 = NULL, *p64 = NULL, *s64 = NULL, *body = NULL;
    EVP_PKEY *key = NULL;
    json_t *claims = NULL;
    static const char hdr[] = "{\"alg\":\"ES256\",\"typ\":\"JWT\"}";

    BIO *bio = BIO_new_mem_buf(privkey_pem ? privkey_pem : "", -1);
    if (!bio) {
        snprintf(err, errlen, "mint: out of memory");
        return NULL;
    }
    key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!key) {
        snprintf(err, errlen, "mint: not a PEM private key");
        goto out;
    }
    if (!hw__is_p256(key)) {
        snprintf(err, errlen, "mint: private key is not EC P-256 (ES256)");
        goto out;
    }
    json_error_t jerr;
    claims = json_loads(claims_json ? claims_json : "", JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(claims)) {
        snprintf(err, errlen, "mint: claims must be a JSON object");
        goto out;
    }
    body = json_dumps(claims, JSON_COMPACT);
    h64 = hw__b64url_encode((const unsigned char *)hdr, sizeof hdr - 1);
    p64 = body ? hw__b64url_encode((const unsigned char *)body, strlen(body)) : NULL;
    if (!h64 || !p64) {
        snprintf(err, errlen, "mint: out of memory");
        goto out;
    }
    size_t hl = strlen(h64), pl = strlen(p64);
    /* header.payload.signature; a 64-byte signature is 86 characters. */
    token = malloc(hl + 1 + pl + 1 + 86 + 1);
    if (!token) {
        snprintf(err, errlen, "mint: out of memory");
        goto out;
    }
    memcpy(token, h64, hl);
    token[hl] = '.';
    memcpy(token + hl + 1, p64, pl + 1);
    unsigned char raw[HW_ES256_SIG_LEN];
    if (hw__es256_sign(key, token, hl + 1 + pl, raw) != 0 ||
        !(s64 = hw__b64url_encode(raw, sizeof raw))) {
        snprintf(err, errlen, "mint: signing failed");
        free(token);
        token = NULL;
        goto out;
    }
    token[hl + 1 + pl] = '.';
    memcpy(token + hl + 1 + pl + 1, s64, strlen(s64) + 1);
out:
    free(s64);
    free(p64);
    free(h64);
    free(body);
    json_decref(claims);
    EVP_PKEY_free(key);
    return token;
}

char *hw_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                free(buf);
                buf = NULL;
            }
            break;
        }
        if (cap - len - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

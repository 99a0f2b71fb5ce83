/* test_auth.c -- ES256 token verification: what is accepted, what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hw_auth.h"

#define ISS "homeward-test"
#define AUD "homeward"

static const int64_t NOW = 1800000000; /* a fixed clock: tests do not depend on the date */

typedef struct keys {
    EVP_PKEY *key, *other;
    char *priv_pem, *pub_pem, *other_priv_pem;
    hw_auth *auth;
} keys;

static char *pem_of(EVP_PKEY *k, int private_key)
{
    BIO *b = BIO_new(BIO_s_mem());
    assert_non_null(b);
    if (private_key)
        assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
    else
        assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *s = malloc((size_t)n + 1);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    BIO_free(b);
    return s;
}

static int setup(void **state)
{
    keys *k = calloc(1, sizeof *k);
    k->key = EVP_EC_gen("P-256");
    k->other = EVP_EC_gen("P-256");
    assert_non_null(k->key);
    assert_non_null(k->other);
    k->priv_pem = pem_of(k->key, 1);
    k->pub_pem = pem_of(k->key, 0);
    k->other_priv_pem = pem_of(k->other, 1);
    char err[256] = "";
    k->auth = hw_auth_create(k->pub_pem, ISS, AUD, err, sizeof err);
    if (!k->auth)
        fail_msg("hw_auth_create: %s", err);
    *state = k;
    return 0;
}

static int teardown(void **state)
{
    keys *k = *state;
    hw_auth_free(k->auth);
    EVP_PKEY_free(k->key);
    EVP_PKEY_free(k->other);
    free(k->priv_pem);
    free(k->pub_pem);
    free(k->other_priv_pem);
    free(k);
    return 0;
}

/* ---- token building blocks, independent of the code under test ---- */

static char *b64url(const unsigned char *in, size_t n)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = malloc(n * 4 / 3 + 4);
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = acc << 8 | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = al[acc >> bits & 63];
        }
    }
    if (bits > 0)
        out[o++] = al[acc << (6 - bits) & 63];
    out[o] = '\0';
    return out;
}

static char *b64s(const char *s) { return b64url((const unsigned char *)s, strlen(s)); }

/* "b64(header).b64(claims)" */
static char *signing_input(const char *header, const char *claims)
{
    char *h = b64s(header), *c = b64s(claims);
    char *out = malloc(strlen(h) + strlen(c) + 2);
    sprintf(out, "%s.%s", h, c);
    free(h);
    free(c);
    return out;
}

static char *join_sig(char *input, const unsigned char *sig, size_t n)
{
    char *s = b64url(sig, n);
    char *out = malloc(strlen(input) + strlen(s) + 2);
    sprintf(out, "%s.%s", input, s);
    free(s);
    free(input);
    return out;
}

/* ES256 over any header, so the test can put a valid signature under a
 * header the verifier must refuse. */
static char *es256_token(EVP_PKEY *key, const char *header, const char *claims)
{
    char *in = signing_input(header, claims);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t der_len = 0;
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestSign(ctx, NULL, &der_len, (unsigned char *)in, strlen(in)), 1);
    unsigned char *der = malloc(der_len);
    assert_int_equal(EVP_DigestSign(ctx, der, &der_len, (unsigned char *)in, strlen(in)), 1);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    assert_non_null(sig);
    unsigned char raw[64];
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32);
    ECDSA_SIG_free(sig);
    free(der);
    EVP_MD_CTX_free(ctx);
    return join_sig(in, raw, sizeof raw);
}

#define HDR "{\"alg\":\"ES256\",\"typ\":\"JWT\"}"

static char *claims_with(const char *extra_exp_nbf, const char *iss, const char *aud,
                         const char *rest)
{
    char *c = malloc(16384);
    snprintf(c, 16384, "{%s,\"iss\":\"%s\",\"aud\":%s%s}", extra_exp_nbf, iss, aud, rest);
    return c;
}

#define GOOD_REST ",\"sub\":\"sw-1042\",\"org\":\"LA-KENT\",\"name\":\"A Worker\"," \
                  "\"roles\":[\"social_worker\",\"spoc\"],\"homes\":[\"home-7\",\"home-9\"]"
#define GOOD_EXP "\"exp\":1800000600,\"iat\":1800000000"

static int verify(keys *k, const char *token, hw_principal *p, char *err, size_t errlen)
{
    return hw_auth_verify(k->auth, token, NOW, p, err, errlen);
}

static void expect_refused(keys *k, const char *token, const char *reason_part)
{
    hw_principal p;
    memset(&p, 0xA5, sizeof p); /* whatever the caller's memory held */
    char err[256] = "";
    int rc = verify(k, token, &p, err, sizeof err);
    if (rc != -1) {
        hw_principal_release(&p);
        fail_msg("token accepted, expected refusal containing '%s'", reason_part);
    }
    if (!strstr(err, reason_part))
        fail_msg("reason '%s' does not contain '%s'", err, reason_part);
    /* No token content leaks into the reason. */
    assert_null(strstr(err, "sw-1042"));
    /* A refused token leaves an empty principal, nothing allocated (LSan
     * would report homes leaked by a refusal after they were read). */
    assert_null(p.homes);
    assert_int_equal(p.n_homes, 0);
}

static void expect_claims_refused(keys *k, const char *claims, const char *reason_part)
{
    char *t = es256_token(k->key, HDR, claims);
    expect_refused(k, t, reason_part);
    free(t);
}

/* ---- tests ---- */

static void test_valid_token_accepted(void **state)
{
    keys *k = *state;
    char *c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", GOOD_REST);
    char err[256] = "";
    char *t = hw_jwt_mint_es256(k->priv_pem, c, err, sizeof err);
    if (!t)
        fail_msg("mint: %s", err);
    hw_principal p;
    int rc = verify(k, t, &p, err, sizeof err);
    if (rc != 0)
        fail_msg("refused: %s", err);
    assert_string_equal(p.sub, "sw-1042");
    assert_string_equal(p.org, "LA-KENT");
    assert_string_equal(p.name, "A Worker");
    assert_int_equal(p.n_roles, 2);
    assert_string_equal(p.roles[1], "spoc");
    assert_int_equal(p.n_homes, 2);
    assert_true(hw_principal_has_role(&p, "social_worker"));
    assert_false(hw_principal_has_role(&p, "police"));
    assert_true(hw_principal_has_home(&p, "home-9"));
    assert_false(hw_principal_has_home(&p, "home-8"));
    hw_principal_release(&p);
    free(t);
    free(c);
}

static void test_independent_signer_and_aud_array_accepted(void **state)
{
    keys *k = *state;
    /* A token signed by the test's own encoder, aud as an array, no homes. */
    char *c = claims_with(GOOD_EXP ",\"nbf\":1800000010", ISS, "[\"other\",\"" AUD "\"]",
                          ",\"sub\":\"svc-risk\",\"org\":\"HOMEWARD\",\"roles\":[\"service\"]");
    char *t = es256_token(k->key, "{\"alg\":\"ES256\"}", c);
    hw_principal p;
    char err[256] = "";
    if (verify(k, t, &p, err, sizeof err) != 0)
        fail_msg("refused: %s", err);
    assert_string_equal(p.sub, "svc-risk");
    assert_int_equal(p.n_homes, 0);
    assert_null(p.homes); /* no homes, nothing allocated */
    assert_string_equal(p.name, "");
    free(t);
    free(c);
}

static void test_alg_none_refused(void **state)
{
    keys *k = *state;
    char *c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", GOOD_REST);
    char *in = signing_input("{\"alg\":\"none\",\"typ\":\"JWT\"}", c);
    char *t = malloc(strlen(in) + 2);
    sprintf(t, "%s.", in);
    expect_refused(k, t, "ES256");
    free(t);
    free(in);
    free(c);
}

static void test_hs256_with_public_key_refused(void **state)
{
    keys *k = *state;
    /* Algorithm confusion: HMAC keyed with the public key's bytes. */
    char *c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", GOOD_REST);
    char *in = signing_input("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", c);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    assert_non_null(HMAC(EVP_sha256(), k->pub_pem, (int)strlen(k->pub_pem),
                         (unsigned char *)in, strlen(in), mac, &mac_len));
    char *t = join_sig(in, mac, mac_len);
    expect_refused(k, t, "ES256");
    free(t);
    free(c);
}

static void test_other_algs_and_headers_refused(void **state)
{
    keys *k = *state;
    char *c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", GOOD_REST);
    /* Each carries a valid ES256 signature: only the header is wrong. */
    const char *headers[] = {
        "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", "{\"typ\":\"JWT\"}", "{\"alg\":\"es256\"}",
        "{\"alg\":null}", "{\"alg\":\"ES256\",\"typ\":\"JWE\"}",
        "{\"alg\":\"ES256\",\"crit\":[\"exp\"]}", "[\"ES256\"]",
        "{\"alg\":\"ES256\",\"alg\":\"ES256\"}",
    };
    const char *why[] = {"ES256", "ES256", "ES256", "ES256", "typ", "critical",
                         "header", "header"};
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        char *t = es256_token(k->key, headers[i], c);
        expect_refused(k, t, why[i]);
        free(t);
    }
    free(c);
}

static void test_wrong_key_refused(void **state)
{
    keys *k = *state;
    char *c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", GOOD_REST);
    char err[256];
    char *t = hw_jwt_mint_es256(k->other_priv_pem, c, err, sizeof err);
    assert_non_null(t);
    expect_refused(k, t, "bad signature");
    free(t);
    free(c);
}

/* token's signature on a payload granting the role admin instead. */
static char *forge_admin(const char *token)
{
    char *c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"",
                          ",\"sub\":\"sw-1042\",\"org\":\"LA-KENT\",\"roles\":[\"admin\"]");
    char *in = signing_input(HDR, c);
    const char *sig = strrchr(token, '.');
    char *forged = malloc(strlen(in) + strlen(sig) + 1);
    sprintf(forged, "%s%s", in, sig);
    free(in);
    free(c);
    return forged;
}

static void test_tampered_payload_refused(void **state)
{
    keys *k = *state;
    char *c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", GOOD_REST);
    char *t = es256_token(k->key, HDR, c);
    char *forged = forge_admin(t);
    expect_refused(k, forged, "bad signature");
    free(forged);
    free(t);
    free(c);
}

/* A verified token is remembered (the ECDSA verify and the parsing run once
 * per token), but exp and nbf are checked on every call, and a token that
 * differs in any byte is verified afresh. */
static void test_remembered_signature_still_checks_time_and_bytes(void **state)
{
    keys *k = *state;
    char *c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", GOOD_REST);
    char err[256] = "";
    char *t = hw_jwt_mint_es256(k->priv_pem, c, err, sizeof err);
    assert_non_null(t);
    for (int i = 0; i < 3; i++) {
        hw_principal p;
        if (hw_auth_verify(k->auth, t, NOW, &p, err, sizeof err) != 0)
            fail_msg("call %d refused: %s", i, err);
        assert_string_equal(p.sub, "sw-1042");
        assert_int_equal(p.n_homes, 2);
        hw_principal_release(&p);
    }
    /* The same token once it has expired (exp + 30 s leeway passed). */
    hw_principal p;
    assert_int_equal(hw_auth_verify(k->auth, t, 1800000600 + 31, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "expired"));
    assert_null(p.homes);
    /* Its signature on another payload. */
    char *forged = forge_admin(t);
    expect_refused(k, forged, "bad signature");
    /* Its header and payload with one signature byte changed. */
    char *bent = strdup(t);
    char *last = bent + strlen(bent) - 2; /* not the final char: its low bits may be padding */
    *last = *last == 'A' ? 'B' : 'A';
    expect_refused(k, bent, "bad signature");
    /* The same claims signed by another key. */
    char *other = hw_jwt_mint_es256(k->other_priv_pem, c, err, sizeof err);
    assert_non_null(other);
    expect_refused(k, other, "bad signature");
    /* And the genuine token is still accepted afterwards. */
    assert_int_equal(hw_auth_verify(k->auth, t, NOW, &p, err, sizeof err), 0);
    hw_principal_release(&p);
    /* A remembered token with nbf, before nbf (less the 30 s leeway). */
    char *c3 = claims_with(GOOD_EXP ",\"nbf\":1800000000", ISS, "\"" AUD "\"", GOOD_REST);
    char *t3 = hw_jwt_mint_es256(k->priv_pem, c3, err, sizeof err);
    assert_non_null(t3);
    assert_int_equal(hw_auth_verify(k->auth, t3, NOW, &p, err, sizeof err), 0);
    hw_principal_release(&p);
    assert_int_equal(hw_auth_verify(k->auth, t3, NOW - 31, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "not valid yet"));
    assert_int_equal(hw_auth_verify(k->auth, t3, NOW - 29, &p, err, sizeof err), 0);
    assert_string_equal(p.homes[1], "home-9");
    hw_principal_release(&p);
    free(t3);
    free(c3);
    free(other);
    free(bent);
    free(forged);
    free(t);
    free(c);
}

static void test_time_claims(void **state)
{
    keys *k = *state;
    char *c;
    /* Expired beyond the 30 s leeway. */
    c = claims_with("\"exp\":1799999960", ISS, "\"" AUD "\"", GOOD_REST);
    expect_claims_refused(k, c, "expired");
    free(c);
    /* Missing exp. */
    c = claims_with("\"iat\":1800000000", ISS, "\"" AUD "\"", GOOD_REST);
    expect_claims_refused(k, c, "exp missing");
    free(c);
    /* exp as a string. */
    c = claims_with("\"exp\":\"1800000600\"", ISS, "\"" AUD "\"", GOOD_REST);
    expect_claims_refused(k, c, "exp");
    free(c);
    /* nbf in the future beyond the leeway. */
    c = claims_with(GOOD_EXP ",\"nbf\":1800000100", ISS, "\"" AUD "\"", GOOD_REST);
    expect_claims_refused(k, c, "nbf");
    free(c);

    /* Within the leeway both pass. */
    c = claims_with("\"exp\":1799999980,\"nbf\":1800000020", ISS, "\"" AUD "\"", GOOD_REST);
    char *t = es256_token(k->key, HDR, c);
    hw_principal p;
    char err[256] = "";
    if (verify(k, t, &p, err, sizeof err) != 0)
        fail_msg("refused within leeway: %s", err);
    hw_principal_release(&p);
    free(t);
    free(c);
}

static void test_iss_aud_refused(void **state)
{
    keys *k = *state;
    char *c;
    c = claims_with(GOOD_EXP, "someone-else", "\"" AUD "\"", GOOD_REST);
    expect_claims_refused(k, c, "issuer");
    free(c);
    c = claims_with(GOOD_EXP, ISS, "\"billing\"", GOOD_REST);
    expect_claims_refused(k, c, "audience");
    free(c);
    c = claims_with(GOOD_EXP, ISS, "[\"billing\",\"x\"]", GOOD_REST);
    expect_claims_refused(k, c, "audience");
    free(c);
    c = claims_with(GOOD_EXP, ISS, "[]", GOOD_REST);
    expect_claims_refused(k, c, "audience");
    free(c);
}

static void test_identity_claims_refused(void **state)
{
    keys *k = *state;
    char *c;
    c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", ",\"sub\":\"sw-1042\",\"org\":\"LA-KENT\"");
    expect_claims_refused(k, c, "roles");
    free(c);
    c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"",
                    ",\"sub\":\"sw-1042\",\"org\":\"LA-KENT\",\"roles\":\"admin\"");
    expect_claims_refused(k, c, "roles");
    free(c);
    c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"",
                    ",\"sub\":\"sw-1042\",\"org\":\"LA-KENT\",\"roles\":[\"a\",7]");
    expect_claims_refused(k, c, "roles[1]");
    free(c);
    c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", ",\"org\":\"LA-KENT\",\"roles\":[\"a\"]");
    expect_claims_refused(k, c, "sub");
    free(c);
    c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", ",\"sub\":\"sw-1042\",\"roles\":[\"a\"]");
    expect_claims_refused(k, c, "org");
    free(c);
    /* A NUL inside a claim would make the C string differ from the JSON
     * one: refused (the JSON parser already rejects \u0000). */
    c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"",
                    ",\"sub\":\"sw-1042\",\"org\":\"LA\\u0000X\",\"roles\":[\"a\"]");
    expect_claims_refused(k, c, "token:");
    free(c);

    /* Too many roles, an over-long role, too many homes, an over-long sub. */
    char rest[4096];
    int n = snprintf(rest, sizeof rest, ",\"sub\":\"s\",\"org\":\"o\",\"roles\":[");
    for (int i = 0; i < HW_MAX_ROLES + 1; i++)
        n += snprintf(rest + n, sizeof rest - (size_t)n, "%s\"r%d\"", i ? "," : "", i);
    snprintf(rest + n, sizeof rest - (size_t)n, "]");
    c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", rest);
    expect_claims_refused(k, c, "too many roles");
    free(c);

    char longs[200];
    memset(longs, 'x', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    snprintf(rest, sizeof rest, ",\"sub\":\"s\",\"org\":\"o\",\"roles\":[\"%.40s\"]", longs);
    c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", rest);
    expect_claims_refused(k, c, "roles[0]");
    free(c);
    snprintf(rest, sizeof rest, ",\"sub\":\"%s\",\"org\":\"o\",\"roles\":[\"r\"]", longs);
    c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", rest);
    expect_claims_refused(k, c, "sub");
    free(c);

    n = snprintf(rest, sizeof rest, ",\"sub\":\"s\",\"org\":\"o\",\"roles\":[\"r\"],\"homes\":[");
    for (int i = 0; i < HW_MAX_HOMES + 1; i++)
        n += snprintf(rest + n, sizeof rest - (size_t)n, "%s\"h%d\"", i ? "," : "", i);
    snprintf(rest + n, sizeof rest - (size_t)n, "]");
    c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", rest);
    expect_claims_refused(k, c, "too many homes");
    free(c);
}

/* Homes are held out of line, exactly as many as the token names; the
 * caller releases them, and a refusal part-way through them frees them. */
static void test_homes_allocated_and_released(void **state)
{
    keys *k = *state;
    char longest[HW_HOME_ID_MAX];
    memset(longest, 'h', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    char rest[512];
    snprintf(rest, sizeof rest,
             ",\"sub\":\"cs-1\",\"org\":\"P-X\",\"roles\":[\"care_staff\"],"
             "\"homes\":[\"home-a\",\"home-bb\",\"%s\"]", longest);
    char *c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", rest);
    char *t = es256_token(k->key, HDR, c);
    hw_principal p;
    char err[256] = "";
    if (verify(k, t, &p, err, sizeof err) != 0)
        fail_msg("refused: %s", err);
    assert_int_equal(p.n_homes, 3);
    assert_non_null(p.homes);
    assert_string_equal(p.homes[0], "home-a");
    assert_string_equal(p.homes[1], "home-bb");
    assert_string_equal(p.homes[2], longest);
    assert_int_equal(sizeof p.homes[0], HW_HOME_ID_MAX);
    assert_true(hw_principal_has_home(&p, "home-bb"));
    assert_true(hw_principal_has_home(&p, longest));
    assert_false(hw_principal_has_home(&p, "home-c"));
    hw_principal_release(&p);
    assert_null(p.homes);
    assert_int_equal(p.n_homes, 0);
    assert_false(hw_principal_has_home(&p, "home-a"));
    hw_principal_release(&p); /* twice: a no-op */
    assert_null(p.homes);
    hw_principal zeroed;
    memset(&zeroed, 0, sizeof zeroed);
    hw_principal_release(&zeroed);
    hw_principal_release(NULL);
    free(t);
    free(c);

    /* Refused after the homes were allocated: a bad third id (one byte
     * too long, then not a string). expect_refused checks homes is NULL;
     * a leak here fails the sanitizer build. */
    char too_long[HW_HOME_ID_MAX + 1];
    memset(too_long, 'x', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    snprintf(rest, sizeof rest,
             ",\"sub\":\"cs-1\",\"org\":\"P-X\",\"roles\":[\"care_staff\"],"
             "\"homes\":[\"home-a\",\"home-bb\",\"%s\"]", too_long);
    c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", rest);
    expect_claims_refused(k, c, "homes[2]");
    free(c);
    c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"",
                    ",\"sub\":\"cs-1\",\"org\":\"P-X\",\"roles\":[\"care_staff\"],"
                    "\"homes\":[\"home-a\",\"home-bb\",7]");
    expect_claims_refused(k, c, "homes[2]");
    free(c);
    /* A token with homes but signed by another key: refused, nothing held. */
    c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", GOOD_REST);
    t = es256_token(k->other, HDR, c);
    expect_refused(k, t, "signature");
    free(t);
    free(c);
}

static void test_malformed_tokens_refused(void **state)
{
    keys *k = *state;
    expect_refused(k, "", "three");
    expect_refused(k, "abc", "three");
    expect_refused(k, "a.b.c.d", "three");
    expect_refused(k, "!!!.@@@.###", "base64url");
    expect_refused(k, "Bearer x.y.z", "base64url");

    char *c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", GOOD_REST);
    char *t = es256_token(k->key, HDR, c);
    /* Header with base64 padding appended. */
    char *padded = malloc(strlen(t) + 3);
    const char *dot = strchr(t, '.');
    sprintf(padded, "%.*s==%s", (int)(dot - t), t, dot);
    expect_refused(k, padded, "base64url");
    free(padded);
    /* Truncated signature: 4 characters fewer is 3 bytes short. */
    char *trunc = strdup(t);
    trunc[strlen(trunc) - 4] = '\0';
    expect_refused(k, trunc, "signature");
    /* Signature cut down to nothing. */
    *(strrchr(trunc, '.') + 1) = '\0';
    expect_refused(k, trunc, "length");
    free(trunc);
    /* Garbage (valid alphabet) in place of the signature. */
    char *garbage = strdup(t);
    char *s = strrchr(garbage, '.') + 1;
    for (char *q = s; *q; q++)
        *q = 'A';
    expect_refused(k, garbage, "bad signature");
    free(garbage);
    free(t);
    free(c);

    /* A payload that is not JSON, correctly signed. */
    t = es256_token(k->key, HDR, "not json");
    expect_refused(k, t, "payload");
    free(t);
}

static void test_oversized_refused(void **state)
{
    keys *k = *state;
    char rest[10000];
    int n = snprintf(rest, sizeof rest, GOOD_REST ",\"pad\":\"");
    memset(rest + n, 'p', 7000);
    snprintf(rest + n + 7000, sizeof rest - (size_t)n - 7000, "\"");
    char *c = claims_with(GOOD_EXP, ISS, "\"" AUD "\"", rest);
    char *t = es256_token(k->key, HDR, c);
    assert_true(strlen(t) > 8192);
    expect_refused(k, t, "too long");
    free(t);
    free(c);
}

static void test_create_and_mint_refuse_bad_keys(void **state)
{
    keys *k = *state;
    char err[256] = "";
    assert_null(hw_auth_create("not a key", ISS, AUD, err, sizeof err));
    assert_non_null(strstr(err, "PEM"));
    assert_null(hw_auth_create(k->pub_pem, "", AUD, err, sizeof err));

    EVP_PKEY *rsa = EVP_RSA_gen(2048);
    assert_non_null(rsa);
    char *rsa_pub = pem_of(rsa, 0), *rsa_priv = pem_of(rsa, 1);
    assert_null(hw_auth_create(rsa_pub, ISS, AUD, err, sizeof err));
    assert_non_null(strstr(err, "P-256"));
    assert_null(hw_jwt_mint_es256(rsa_priv, "{\"sub\":\"x\"}", err, sizeof err));
    assert_null(hw_jwt_mint_es256(k->priv_pem, "[1,2]", err, sizeof err));
    assert_non_null(strstr(err, "object"));
    free(rsa_pub);
    free(rsa_priv);
    EVP_PKEY_free(rsa);
}

static void test_read_file(void **state)
{
    (void)state;
    char path[] = "/tmp/hw_test_auth_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    /* Longer than the first read buffer to exercise growth. */
    size_t n = 10000;
    char *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)('a' + i % 26);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
    char *got = hw_read_file(path);
    assert_non_null(got);
    assert_int_equal(strlen(got), n);
    assert_memory_equal(got, data, n);
    free(got);
    free(data);
    unlink(path);
    assert_null(hw_read_file("/nonexistent/hw/file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_token_accepted),
        cmocka_unit_test(test_independent_signer_and_aud_array_accepted),
        cmocka_unit_test(test_alg_none_refused),
        cmocka_unit_test(test_hs256_with_public_key_refused),
        cmocka_unit_test(test_other_algs_and_headers_refused),
        cmocka_unit_test(test_wrong_key_refused),
        cmocka_unit_test(test_tampered_payload_refused),
        cmocka_unit_test(test_remembered_signature_still_checks_time_and_bytes),
        cmocka_unit_test(test_time_claims),
        cmocka_unit_test(test_iss_aud_refused),
        cmocka_unit_test(test_identity_claims_refused),
        cmocka_unit_test(test_homes_allocated_and_released),
        cmocka_unit_test(test_malformed_tokens_refused),
        cmocka_unit_test(test_oversized_refused),
        cmocka_unit_test(test_create_and_mint_refuse_bad_keys),
        cmocka_unit_test(test_read_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

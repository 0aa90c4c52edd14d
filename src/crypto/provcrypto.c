/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "cursor.h"
#include "hex.h"
#include "provcrypto.h"

/* EVP takes int lengths. (<limits.h> is shadowed by src/basic/limits.h on the include path.) */
#define EVP_LEN_MAX ((size_t)INT32_MAX)
_Static_assert(sizeof(int) >= 4, "int narrower than 32 bits");

/* Bytes of the DATA prefix we look at (ref-provisioning.md §5). The crypto layer does not depend on the
 * codec, so the two constants are repeated here. */
#define DATA_TYPE              2u
#define DATA_KEY_INDEX_FACTORY 1u
#define PREFIX_TYPE_OFFSET     0u
#define PREFIX_KEY_INDEX       6u
#define PREFIX_COUNTER         7u

#define AES_BLOCK 16u
/* Counter blocks encrypted per EVP call when building the key stream. */
#define CTR_CHUNK_BLOCKS 8u

static void cipher_ctx_freep(EVP_CIPHER_CTX **c) {
        EVP_CIPHER_CTX_free(*c); /* resets the context: the provider wipes the key schedule */
}

static void mac_ctx_freep(EVP_MAC_CTX **c) {
        EVP_MAC_CTX_free(*c);
}

static void mac_freep(EVP_MAC **m) {
        EVP_MAC_free(*m);
}

/* An AES-128-ECB context without padding, for whole blocks only. */
static int ecb_ctx_new(const uint8_t key[static 16], EVP_CIPHER_CTX **ret) {
        _cleanup_(cipher_ctx_freep) EVP_CIPHER_CTX *ctx = NULL;

        ctx = EVP_CIPHER_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (EVP_EncryptInit_ex2(ctx, EVP_aes_128_ecb(), key, NULL, NULL) != 1)
                return -EIO;
        if (EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
                return -EIO;
        *ret = TAKE_PTR(ctx);
        return 0;
}

static int ecb_blocks(EVP_CIPHER_CTX *ctx, const uint8_t *in, uint8_t *out, size_t len) {
        int outl = 0;

        assert(len % AES_BLOCK == 0 && len <= EVP_LEN_MAX);
        if (EVP_EncryptUpdate(ctx, out, &outl, in, (int)len) != 1 || (size_t)outl != len)
                return -EIO;
        return 0;
}

int aes128_encrypt_block(const uint8_t key[static 16], const uint8_t in[static 16], uint8_t out[static 16]) {
        _cleanup_(cipher_ctx_freep) EVP_CIPHER_CTX *ctx = NULL;
        int r;

        if (!key || !in || !out)
                return -EINVAL;
        r = ecb_ctx_new(key, &ctx);
        if (r < 0)
                return r;
        return ecb_blocks(ctx, in, out, AES_BLOCK);
}

/* A CMAC context keyed with an AES-128 key. */
static int cmac_ctx_new(const uint8_t key[static 16], EVP_MAC_CTX **ret) {
        _cleanup_(mac_freep) EVP_MAC *mac = NULL;
        _cleanup_(mac_ctx_freep) EVP_MAC_CTX *ctx = NULL;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0),
                OSSL_PARAM_construct_end(),
        };

        mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
        if (!mac)
                return -EOPNOTSUPP;
        ctx = EVP_MAC_CTX_new(mac);
        if (!ctx)
                return -ENOMEM;
        if (EVP_MAC_init(ctx, key, 16, params) != 1)
                return -EIO;
        *ret = TAKE_PTR(ctx);
        return 0;
}

static int mac_final16(EVP_MAC_CTX *ctx, uint8_t out[static 16]) {
        size_t outl = 0;

        if (EVP_MAC_final(ctx, out, &outl, 16) != 1 || outl != 16)
                return -EIO;
        return 0;
}

int aes128_cmac(const uint8_t key[static 16], const uint8_t *data, size_t len, uint8_t out[static 16]) {
        _cleanup_(mac_ctx_freep) EVP_MAC_CTX *ctx = NULL;
        int r;

        if (!key || !out || (!data && len > 0))
                return -EINVAL;
        r = cmac_ctx_new(key, &ctx);
        if (r < 0)
                return r;
        if (len > 0 && EVP_MAC_update(ctx, data, len) != 1)
                return -EIO;
        return mac_final16(ctx, out);
}

/* block += v as 128-bit little-endian numbers, modulo 2^128: the carry runs through all 16 bytes and the
 * last one is dropped. */
static void le128_add(uint8_t block[static AES_BLOCK], uint64_t v) {
        unsigned carry = 0;

        for (size_t i = 0; i < AES_BLOCK; i++) {
                unsigned s = block[i] + (unsigned)(v & 0xff) + carry;

                block[i] = (uint8_t)s;
                carry = s >> 8;
                v >>= 8;
        }
}

/* XORs len bytes of in into out with the key stream from byte offset `offset` on; out may equal in. The
 * counter block of stream block i is LE128(iv) + counter + i mod 2^128 (ref-provisioning.md §10.3). Not EVP
 * aes-128-ctr: that one increments big-endian. */
static int ctr_xor_at(EVP_CIPHER_CTX *ecb, const uint8_t iv[static PROV_IV_SIZE], uint16_t counter,
                      size_t offset, const uint8_t *in, uint8_t *out, size_t len) {
        uint8_t blocks[CTR_CHUNK_BLOCKS * AES_BLOCK], stream[CTR_CHUNK_BLOCKS * AES_BLOCK];
        uint8_t icb[AES_BLOCK];
        uint64_t block = offset / AES_BLOCK;
        size_t skip = offset % AES_BLOCK, done = 0;
        int r = 0;

        memcpy(icb, iv, AES_BLOCK);
        le128_add(icb, counter);

        while (done < len) {
                size_t want = skip + (len - done);
                size_t nblocks = MIN(DIV_ROUND_UP(want, AES_BLOCK), (size_t)CTR_CHUNK_BLOCKS);
                size_t avail = nblocks * AES_BLOCK - skip;
                size_t n = MIN(avail, len - done);

                for (size_t b = 0; b < nblocks; b++) {
                        memcpy(blocks + b * AES_BLOCK, icb, AES_BLOCK);
                        le128_add(blocks + b * AES_BLOCK, block + b);
                }
                r = ecb_blocks(ecb, blocks, stream, nblocks * AES_BLOCK);
                if (r < 0)
                        break;
                for (size_t i = 0; i < n; i++)
                        out[done + i] = in[done + i] ^ stream[skip + i];

                done += n;
                block += nblocks;
                skip = 0;
        }

        explicit_bzero_safe(stream, sizeof(stream));
        explicit_bzero_safe(blocks, sizeof(blocks));
        explicit_bzero_safe(icb, sizeof(icb));
        return r;
}

int prov_ctr_xor(const uint8_t enc_key[static 16], const uint8_t iv[static PROV_IV_SIZE], uint16_t counter,
                 uint8_t *buf, size_t len) {
        _cleanup_(cipher_ctx_freep) EVP_CIPHER_CTX *ecb = NULL;
        int r;

        if (!enc_key || !iv || (!buf && len > 0))
                return -EINVAL;
        if (len == 0)
                return 0;
        r = ecb_ctx_new(enc_key, &ecb);
        if (r < 0)
                return r;
        return ctr_xor_at(ecb, iv, counter, 0, buf, buf, len);
}

/* Full CMAC(auth, prefix || cbor) */
static int data_cmac(const uint8_t auth_key[static 16], const uint8_t prefix[static PROV_DATA_HEADER_SIZE],
                     const uint8_t *cbor, size_t cbor_len, uint8_t out[static 16]) {
        _cleanup_(mac_ctx_freep) EVP_MAC_CTX *ctx = NULL;
        int r;

        r = cmac_ctx_new(auth_key, &ctx);
        if (r < 0)
                return r;
        if (EVP_MAC_update(ctx, prefix, PROV_DATA_HEADER_SIZE) != 1 ||
            (cbor_len > 0 && EVP_MAC_update(ctx, cbor, cbor_len) != 1))
                return -EIO;
        return mac_final16(ctx, out);
}

static bool prefix_is_secured_data(const uint8_t prefix[static PROV_DATA_HEADER_SIZE]) {
        return prefix[PREFIX_TYPE_OFFSET] == DATA_TYPE && prefix[PREFIX_KEY_INDEX] == DATA_KEY_INDEX_FACTORY;
}

int prov_data_seal(const uint8_t factory_key[static PROV_FACTORY_KEY_SIZE],
                   const uint8_t iv[static PROV_IV_SIZE], const uint8_t prefix[static PROV_DATA_HEADER_SIZE],
                   const uint8_t *cbor, size_t cbor_len, uint8_t *out, size_t outsz) {
        _cleanup_(cipher_ctx_freep) EVP_CIPHER_CTX *ecb = NULL;
        const uint8_t *auth_key, *enc_key;
        uint8_t mac[16];
        int r;

        if (!factory_key || !iv || !prefix || !cbor || cbor_len == 0 || !out)
                return -EINVAL;
        if (!prefix_is_secured_data(prefix))
                return -EINVAL;
        if (cbor_len > EVP_LEN_MAX - PROV_MIC_SIZE || outsz < cbor_len + PROV_MIC_SIZE)
                return -EMSGSIZE;

        auth_key = factory_key; /* [auth 16][enc 16] */
        enc_key = factory_key + PROV_KEY_SIZE;

        r = data_cmac(auth_key, prefix, cbor, cbor_len, mac);
        if (r < 0)
                goto out;
        r = ecb_ctx_new(enc_key, &ecb);
        if (r < 0)
                goto out;

        /* MAC-then-encrypt: out = CTR(cbor || MIC). cbor may be out itself. */
        uint16_t counter = unaligned_read_le16(prefix + PREFIX_COUNTER);
        memmove(out, cbor, cbor_len);
        memcpy(out + cbor_len, mac, PROV_MIC_SIZE);
        r = ctr_xor_at(ecb, iv, counter, 0, out, out, cbor_len + PROV_MIC_SIZE);
        if (r < 0) {
                explicit_bzero_safe(out, cbor_len + PROV_MIC_SIZE);
                goto out;
        }
        r = (int)(cbor_len + PROV_MIC_SIZE);
out:
        explicit_bzero_safe(mac, sizeof(mac));
        return r;
}

int prov_data_open(const uint8_t factory_key[static PROV_FACTORY_KEY_SIZE],
                   const uint8_t iv[static PROV_IV_SIZE], const uint8_t prefix[static PROV_DATA_HEADER_SIZE],
                   const uint8_t *ct, size_t ct_len, uint8_t *out, size_t outsz) {
        _cleanup_(cipher_ctx_freep) EVP_CIPHER_CTX *ecb = NULL;
        const uint8_t *auth_key, *enc_key;
        uint8_t mic[PROV_MIC_SIZE], mac[16];
        size_t n;
        int r;

        if (!factory_key || !iv || !prefix || !ct || !out)
                return -EINVAL;
        if (ct_len <= PROV_MIC_SIZE)
                return -EBADMSG;
        if (!prefix_is_secured_data(prefix))
                return -EBADMSG;
        n = ct_len - PROV_MIC_SIZE;
        if (n > EVP_LEN_MAX)
                return -EMSGSIZE;
        if (outsz < n)
                return -EMSGSIZE;

        auth_key = factory_key;
        enc_key = factory_key + PROV_KEY_SIZE;
        uint16_t counter = unaligned_read_le16(prefix + PREFIX_COUNTER);

        r = ecb_ctx_new(enc_key, &ecb);
        if (r < 0)
                return r;
        /* the MIC first: out may be ct itself */
        r = ctr_xor_at(ecb, iv, counter, n, ct + n, mic, PROV_MIC_SIZE);
        if (r < 0)
                goto out;
        memmove(out, ct, n);
        r = ctr_xor_at(ecb, iv, counter, 0, out, out, n);
        if (r < 0)
                goto fail;
        r = data_cmac(auth_key, prefix, out, n, mac);
        if (r < 0)
                goto fail;
        if (!memeq_secure(mac, mic, PROV_MIC_SIZE)) {
                r = -EBADMSG;
                goto fail;
        }
        r = (int)n;
        goto out;

fail:
        explicit_bzero_safe(out, n);
out:
        explicit_bzero_safe(mic, sizeof(mic));
        explicit_bzero_safe(mac, sizeof(mac));
        return r;
}

char *key_fingerprint(const uint8_t *key, size_t len, char *buf, size_t bufsz) {
        static const char prefix[] = "sha256:";
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        size_t l = sizeof(prefix) - 1;

        if (!buf || bufsz < KEY_FINGERPRINT_MAX || (!key && len > 0))
                return NULL;
        if (EVP_Digest(len > 0 ? key : (const uint8_t *)"", len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
            mdlen < 8) {
                snprintf(buf, bufsz, "%sunavailable", prefix);
                return buf;
        }
        memcpy(buf, prefix, l);
        hex_encode(md, 8, buf + l, bufsz - l);
        explicit_bzero_safe(md, sizeof(md));
        return buf;
}

int prov_derive_factory_key(const uint8_t master[static 32], const uint8_t *uid, size_t uid_len,
                            uint8_t out[static PROV_FACTORY_KEY_SIZE]) {
        static const char label[] =
                "meshprov factory key v1"; /* followed by its NUL as the 0x00 separator */
        _cleanup_(mac_freep) EVP_MAC *mac = NULL;
        _cleanup_(mac_ctx_freep) EVP_MAC_CTX *ctx = NULL;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
                OSSL_PARAM_construct_end(),
        };
        uint8_t md[32];
        size_t outl = 0;
        int r = -EIO;

        if (!master || !uid || !out)
                return -EINVAL;
        if (uid_len < 1 || uid_len > PROV_UID_MAX)
                return -EINVAL;

        mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (!mac)
                return -EOPNOTSUPP;
        ctx = EVP_MAC_CTX_new(mac);
        if (!ctx)
                return -ENOMEM;
        if (EVP_MAC_init(ctx, master, 32, params) != 1 ||
            EVP_MAC_update(ctx, (const uint8_t *)label, sizeof(label)) != 1 ||
            EVP_MAC_update(ctx, uid, uid_len) != 1 || EVP_MAC_final(ctx, md, &outl, sizeof(md)) != 1 ||
            outl != sizeof(md))
                goto out;

        memcpy(out, md, PROV_FACTORY_KEY_SIZE);
        r = 0;
out:
        explicit_bzero_safe(md, sizeof(md));
        return r;
}

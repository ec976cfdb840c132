/*
 * AES-256-GCM sealing in place, for Earshot's sealed-file format.
 *
 * node:crypto's cipher.update() returns a new buffer for every call. Sealing a 1 GiB upload
 * that way allocates 1 GiB of fresh memory, and on a VM that hands freed pages back to its
 * host every one of those pages faults twice: that, not AES, was most of encryption's cost.
 * This encrypts a caller-owned buffer in place (OpenSSL's GCM supports out == in) and writes
 * the tag where the caller says, so upload buffers are reused for the whole transfer.
 * The OpenSSL is Node's own: its symbols are resolved from the node binary at load time.
 */
#include <node_api.h>
#include <openssl/evp.h>

#define KEY_BYTES 32
#define NONCE_BYTES 12
#define TAG_BYTES 16

static napi_value fail(napi_env env, const char* message) {
  napi_throw_error(env, "EARSHOT_SEALING", message);
  return NULL;
}

static int buffer_arg(napi_env env, napi_value value, unsigned char** data, size_t* length) {
  bool is_buffer = false;
  if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer) return 0;
  return napi_get_buffer_info(env, value, (void**)data, length) == napi_ok;
}

/* sealInPlace(key, nonce, aad, data, tag): data is encrypted in place; tag receives the 16-byte GCM tag. */
static napi_value seal_in_place(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5) return fail(env, "sealInPlace takes 5 buffers");
  unsigned char *key, *nonce, *aad, *data, *tag;
  size_t key_length, nonce_length, aad_length, data_length, tag_length;
  if (!buffer_arg(env, argv[0], &key, &key_length) || key_length != KEY_BYTES) return fail(env, "key must be a 32-byte Buffer");
  if (!buffer_arg(env, argv[1], &nonce, &nonce_length) || nonce_length != NONCE_BYTES) return fail(env, "nonce must be a 12-byte Buffer");
  if (!buffer_arg(env, argv[2], &aad, &aad_length) || aad_length > 1024) return fail(env, "aad must be a Buffer of at most 1024 bytes");
  if (!buffer_arg(env, argv[3], &data, &data_length) || data_length > (size_t)1 << 30) return fail(env, "data must be a Buffer of at most 1 GiB");
  if (!buffer_arg(env, argv[4], &tag, &tag_length) || tag_length != TAG_BYTES) return fail(env, "tag must be a 16-byte Buffer");

  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL) return fail(env, "out of memory");
  /* An empty Buffer may have no data pointer; GCM's final step writes nothing anyway. */
  unsigned char none[16];
  unsigned char* end = data_length == 0 ? none : data + data_length;
  int length = 0;
  int ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
           EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
           (aad_length == 0 || EVP_EncryptUpdate(ctx, NULL, &length, aad, (int)aad_length) == 1) &&
           (data_length == 0 || (EVP_EncryptUpdate(ctx, data, &length, data, (int)data_length) == 1 && (size_t)length == data_length)) &&
           EVP_EncryptFinal_ex(ctx, end, &length) == 1 && length == 0 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return fail(env, "AES-256-GCM sealing failed in OpenSSL");
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "sealInPlace", NAPI_AUTO_LENGTH, seal_in_place, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "sealInPlace", fn) != napi_ok) return NULL;
  return exports;
}

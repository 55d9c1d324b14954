#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "libs/auth/authenticator.hpp"
#include "libs/auth/crypto.hpp"
#include "libs/auth/jwt.hpp"
#include "libs/auth/rate_limiter.hpp"

namespace orderflow::auth {
namespace {

namespace json = boost::json;
using Flags = std::map<std::string, std::string>;
constexpr std::int64_t kNow = 1'800'000'000;
const std::string kSecret = "an-hs256-secret-of-at-least-32-bytes!!";

std::string part(const json::value& v) { return crypto::base64url_encode(json::serialize(v)); }

std::string hs256(const json::object& claims, const std::string& secret = kSecret, std::string alg = "HS256") {
  auto signing_input = part(json::object{{"alg", alg}, {"typ", "JWT"}}) + "." + part(claims);
  return signing_input + "." + crypto::base64url_encode(crypto::hmac_sha256(secret, signing_input));
}

json::object claims(json::object extra = {}) {
  json::object c{{"sub", "c-42"}, {"iss", "https://id.example"}, {"aud", "orderflow"}, {"exp", kNow + 300}};
  for (auto& [k, v] : extra) c[k] = v;
  return c;
}

JwtConfig hs_config() {
  JwtConfig c;
  c.hs256_secret = kSecret;
  c.issuer = "https://id.example";
  c.audience = "orderflow";
  return c;
}

TEST(Crypto, Base64urlRoundTripsAndRejectsOtherAlphabets) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00", 3)}) {
    EXPECT_EQ(crypto::base64url_decode(crypto::base64url_encode(s)), s);
  }
  EXPECT_EQ(crypto::base64url_encode("\xfb\xff"), "-_8");
  EXPECT_FALSE(crypto::base64url_decode("ab+/"));
  EXPECT_FALSE(crypto::base64url_decode("abcde"));  // a lone trailing character
}

TEST(Crypto, Sha256AndHmacMatchKnownVectors) {
  EXPECT_EQ(crypto::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(crypto::base64url_encode(crypto::hmac_sha256("Jefe", "what do ya want for nothing?")),
            crypto::base64url_encode(std::string("\x5b\xdc\xc1\x46\xbf\x60\x75\x4e\x6a\x04\x24\x26\x08\x95\x75\xc7"
                                                 "\x5a\x00\x3f\x08\x9d\x27\x39\x83\x9d\xec\x58\xb9\x64\xec\x38\x43",
                                                 32)));
}

TEST(Jwt, AValidHs256TokenNamesItsCustomer) {
  JwtVerifier v(hs_config());
  auto p = v.verify(hs256(claims()), kNow);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->customer_id, "c-42");
  EXPECT_FALSE(p->admin);
  EXPECT_TRUE(p->may_act_for("c-42"));
  EXPECT_FALSE(p->may_act_for("c-43"));
}

TEST(Jwt, AdminRoleOrScopeMakesAnAdmin) {
  JwtVerifier v(hs_config());
  auto by_role = v.verify(hs256(claims({{"roles", json::array{"viewer", "admin"}}})), kNow);
  auto by_scope = v.verify(hs256(claims({{"scope", "orders:read orderflow:admin"}})), kNow);
  ASSERT_TRUE(by_role && by_scope);
  EXPECT_TRUE(by_role->admin && by_scope->admin);
  EXPECT_TRUE(by_role->may_act_for("anyone"));
}

TEST(Jwt, RejectsAlgNoneAndOtherAlgorithms) {
  JwtVerifier v(hs_config());
  auto none = part(json::object{{"alg", "none"}}) + "." + part(claims()) + ".";
  EXPECT_FALSE(v.verify(none, kNow));
  EXPECT_FALSE(v.verify(hs256(claims(), kSecret, "HS512"), kNow));
  EXPECT_FALSE(v.verify(hs256(claims(), kSecret, "none"), kNow));
}

TEST(Jwt, RejectsABadSignatureAndGarbage) {
  JwtVerifier v(hs_config());
  EXPECT_FALSE(v.verify(hs256(claims(), "another-secret-that-is-32-bytes-long!!"), kNow));
  auto token = hs256(claims());
  token.back() = token.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(v.verify(token, kNow));
  EXPECT_FALSE(v.verify("a.b", kNow));
  EXPECT_FALSE(v.verify("a.b.c.d", kNow));
  EXPECT_FALSE(v.verify("!!.??.**", kNow));
}

TEST(Jwt, ChecksExpNbfIssAudAndSub) {
  JwtVerifier v(hs_config());
  EXPECT_FALSE(v.verify(hs256(claims({{"exp", kNow - 31}})), kNow)) << "expired beyond the leeway";
  EXPECT_TRUE(v.verify(hs256(claims({{"exp", kNow - 29}})), kNow)) << "within the 30 s leeway";
  auto no_exp = claims();
  no_exp.erase("exp");
  EXPECT_FALSE(v.verify(hs256(no_exp), kNow));
  EXPECT_FALSE(v.verify(hs256(claims({{"nbf", kNow + 60}})), kNow));
  EXPECT_TRUE(v.verify(hs256(claims({{"nbf", kNow - 60}})), kNow));
  EXPECT_FALSE(v.verify(hs256(claims({{"iss", "https://evil.example"}})), kNow));
  EXPECT_FALSE(v.verify(hs256(claims({{"aud", "another-api"}})), kNow));
  EXPECT_TRUE(v.verify(hs256(claims({{"aud", json::array{"x", "orderflow"}}})), kNow));
  EXPECT_FALSE(v.verify(hs256(claims({{"sub", ""}})), kNow));
}

TEST(Jwt, RefusesWeakOrAmbiguousKeys) {
  JwtConfig both = hs_config();
  both.rs256_public_key_pem = "x";
  EXPECT_THROW(JwtVerifier{both}, std::invalid_argument);
  JwtConfig weak = hs_config();
  weak.hs256_secret = "short";
  EXPECT_THROW(JwtVerifier{weak}, std::invalid_argument);
  JwtConfig bad_pem;
  bad_pem.rs256_public_key_pem = "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n";
  EXPECT_THROW(JwtVerifier{bad_pem}, std::invalid_argument);
}

struct RsaKey {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  ~RsaKey() { EVP_PKEY_free(key); }
  std::string public_pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return pem;
  }
  std::string sign(const std::string& input) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
    std::size_t len = 0;
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    return sig;
  }
};

TEST(Jwt, Rs256VerifiesWithThePublicKeyAndRefusesHs256Confusion) {
  RsaKey rsa;
  ASSERT_NE(rsa.key, nullptr);
  JwtConfig c = hs_config();
  c.hs256_secret.clear();
  c.rs256_public_key_pem = rsa.public_pem();
  JwtVerifier v(c);
  auto input = part(json::object{{"alg", "RS256"}}) + "." + part(claims());
  auto p = v.verify(input + "." + crypto::base64url_encode(rsa.sign(input)), kNow);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->customer_id, "c-42");
  // The classic confusion attack: an HS256 token keyed with the public key itself.
  EXPECT_FALSE(v.verify(hs256(claims(), c.rs256_public_key_pem), kNow));
  RsaKey other;
  EXPECT_FALSE(v.verify(input + "." + crypto::base64url_encode(other.sign(input)), kNow));
}

const std::string kAdminKey = "ofk_admin_0123456789abcdef0123456789";
const std::string kCustomerKey = "ofk_cust_0123456789abcdef0123456789";

AuthConfig keys_config() {
  AuthConfig c;
  c.api_keys = parse_api_keys("backend:admin:" + crypto::sha256_hex(kAdminKey) + ",\n  # a comment\n" +
                              "shop-42:customer=c-42:" + crypto::sha256_hex(kCustomerKey));
  return c;
}

TEST(ApiKeys, ParseRejectsMalformedEntries) {
  EXPECT_EQ(keys_config().api_keys.size(), 2u);
  EXPECT_THROW(parse_api_keys("name-only"), ConfigError);
  EXPECT_THROW(parse_api_keys("a:admin:not-a-hash"), ConfigError);
  EXPECT_THROW(parse_api_keys("a:root:" + crypto::sha256_hex("k")), ConfigError);
  EXPECT_THROW(parse_api_keys("a:customer=:" + crypto::sha256_hex("k")), ConfigError);
}

TEST(Authenticator, ApiKeysByBearerOrHeader) {
  Authenticator a(keys_config());
  auto admin = a.authenticate("Bearer " + kAdminKey, "", kNow);
  ASSERT_TRUE(admin);
  EXPECT_TRUE(admin->admin);
  EXPECT_EQ(admin->name, "backend");
  auto customer = a.authenticate("", kCustomerKey, kNow);
  ASSERT_TRUE(customer);
  EXPECT_EQ(customer->customer_id, "c-42");
  EXPECT_EQ(a.authenticate("", "", kNow).error().code, "missing-credentials");
  EXPECT_EQ(a.authenticate("Bearer nope", "", kNow).error().code, "invalid-credentials");
  EXPECT_EQ(a.authenticate("Basic " + kAdminKey, "", kNow).error().code, "invalid-credentials");
  EXPECT_EQ(a.authenticate("Bearer a.b.c", "", kNow).error().code, "invalid-credentials") << "no JWT configured";
}

TEST(Authenticator, JwtAndApiKeysTogether) {
  auto c = keys_config();
  c.jwt = hs_config();
  Authenticator a(c);
  auto p = a.authenticate("bearer " + hs256(claims()), "", kNow);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->customer_id, "c-42");
  EXPECT_FALSE(a.authenticate("Bearer " + hs256(claims({{"exp", kNow - 100}})), "", kNow));
}

TEST(Authenticator, ConfigFromSettings) {
  EXPECT_THROW(AuthConfig::from(Settings(Flags{})), ConfigError) << "required with no credentials";
  EXPECT_FALSE(AuthConfig::from(Settings(Flags{{"auth-mode", "none"}})).required);
  EXPECT_THROW(AuthConfig::from(Settings(Flags{{"auth-mode", "maybe"}})), ConfigError);
  EXPECT_THROW(AuthConfig::from(Settings(Flags{{"jwt-hs256-secret", kSecret}})), ConfigError) << "no issuer/audience";
  auto c = AuthConfig::from(Settings(
      {{"jwt-hs256-secret", kSecret}, {"jwt-issuer", "https://id.example"}, {"jwt-audience", "orderflow"}}));
  ASSERT_TRUE(c.jwt.has_value());
  Authenticator demo(AuthConfig::from(Settings(Flags{{"auth-mode", "none"}})));
  auto anyone = demo.authenticate("", "", kNow);
  ASSERT_TRUE(anyone);
  EXPECT_TRUE(anyone->admin);
}

TEST(RateLimiter, AllowsTheBurstThenRefusesWithRetryAfterAndRefills) {
  RateLimiter limiter(2.0, 3.0);
  auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter.acquire("a", t0)) << i;
  auto refused = limiter.acquire("a", t0);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->count(), 1);
  EXPECT_FALSE(limiter.acquire("b", t0)) << "clients have their own buckets";
  EXPECT_FALSE(limiter.acquire("a", t0 + std::chrono::milliseconds(500))) << "one token back after 0.5 s at 2/s";
  EXPECT_TRUE(limiter.acquire("a", t0 + std::chrono::milliseconds(500)));
}

TEST(RateLimiter, SlowRatesAskForLongerWaitsAndZeroIsOff) {
  RateLimiter slow(0.1, 1.0);
  auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_FALSE(slow.acquire("a", t0));
  EXPECT_EQ(slow.acquire("a", t0)->count(), 10);
  RateLimiter off(0, 0);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(off.acquire("a", t0));
}

TEST(RateLimiter, MemoryStaysBounded) {
  RateLimiter limiter(1.0, 1.0, 100);
  auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 1000; ++i) (void)limiter.acquire("client-" + std::to_string(i), t0 + std::chrono::seconds(i));
  EXPECT_FALSE(limiter.acquire("late", t0 + std::chrono::seconds(2000)));
}

}  // namespace
}  // namespace orderflow::auth

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "hsm/encoding.h"
#include "tests/hsm/crypto_check.h"
#include "tests/hsm/test_token.h"

using namespace byok::hsm;

namespace {

struct Run {
  int code = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs byokctl with the token's connection flags (unless `connect` is false).
Run byokctl(test::TestToken& token, std::vector<std::string> args, bool connect = true) {
  std::string cmd = quote(BYOKCTL_PATH);
  for (const auto& a : args) cmd += " " + quote(a);
  if (connect) {
    cmd += " --module " + quote(test::TestToken::module_path()) + " --token " +
           quote(token.label()) + " --pin-file " + quote(token.pin_file());
  }
  std::string out = token.dir() + "/cli.out", err = token.dir() + "/cli.err";
  cmd += " >" + quote(out) + " 2>" + quote(err);
  int status = std::system(cmd.c_str());
  Run r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Every text form of `secret` the CLI might leak.
void check_no_leak(const Run& r, std::span<const std::uint8_t> secret) {
  for (const std::string& form :
       {to_hex(secret), upper(to_hex(secret)), base64_encode(secret), base64url_encode(secret)}) {
    // Compare a prefix long enough to be unique but not hit by a line-wrapped encoder.
    std::string probe = form.substr(0, std::min<std::size_t>(form.size(), 24));
    CHECK(r.out.find(probe) == std::string::npos);
    CHECK(r.err.find(probe) == std::string::npos);
  }
}

std::string to_string(const test::Bytes& b) { return std::string(b.begin(), b.end()); }

}  // namespace

TEST_CASE("byokctl azure-byok-export: .byok for a known RSA and AES key decrypts right, no leak") {
  test::TestToken token;
  auto known_aes = test::random_bytes(32);
  auto known_rsa = test::generate_rsa(2048);
  {
    auto s = token.raw_session();
    test::import_secret(*s, "known-aes", known_aes);
    test::import_private(*s, "known-rsa", known_rsa.get());
  }
  auto kek = test::generate_rsa(2048);
  std::string kek_pem = token.write_file("kek.pem", test::public_pem(kek.get()));
  const std::string kid = "https://contoso.vault.azure.net/keys/kek/0123456789abcdef";

  auto r = byokctl(token, {"azure-byok-export", "--kek-identifier", kid, "--kek-file", kek_pem,
                           "--rsa-key", "known-rsa", "--out", token.dir() + "/rsa.byok"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(slurp(token.dir() + "/rsa.byok"));
  CHECK(j["schema_version"] == "1.0.0");
  CHECK(j["header"]["kid"] == kid);
  CHECK(j["header"]["alg"] == "dir");
  CHECK(j["header"]["enc"] == "CKM_RSA_AES_KEY_WRAP");
  CHECK(j["generator"].get<std::string>().starts_with("byokctl "));
  CHECK(j["generator"].get<std::string>().find(test::TestToken::manufacturer()) !=
        std::string::npos);
  std::string ct = j["ciphertext"];
  CHECK(ct.find_first_of("+/=") == std::string::npos);  // base64url, unpadded
  auto blob = base64_decode(ct);
  REQUIRE(blob.has_value());
  auto material = test::unwrap_rsa_aes(kek.get(), OaepHash::Sha1, *blob);
  REQUIRE(material.has_value());
  auto back = test::parse_pkcs8(*material);
  REQUIRE(back);
  CHECK(test::same_private_key(back.get(), known_rsa.get()));
  check_no_leak(r, test::private_pkcs8(known_rsa.get()));

  // AES to stdout.
  auto a = byokctl(token, {"azure-byok-export", "--kek-identifier", kid, "--kek-file", kek_pem,
                           "--aes-key", "known-aes"});
  REQUIRE(a.code == 0);
  auto ja = nlohmann::json::parse(a.out);
  auto ablob = base64_decode(ja["ciphertext"].get<std::string>());
  REQUIRE(ablob.has_value());
  CHECK(test::unwrap_rsa_aes(kek.get(), OaepHash::Sha1, *ablob) == known_aes);
  check_no_leak(a, known_aes);

  // The wrong key family for the flag is refused.
  auto wrong = byokctl(token, {"azure-byok-export", "--kek-identifier", kid, "--kek-file", kek_pem,
                               "--ec-key", "known-rsa"});
  CHECK(wrong.code == 2);
  CHECK(wrong.err.find("not an EC key") != std::string::npos);
}

TEST_CASE(
    "byokctl aws-kms-export: EncryptedKeyMaterial decrypts to the key, refusals exit non-zero") {
  test::TestToken token;
  auto known_aes = test::random_bytes(32);
  {
    auto s = token.raw_session();
    test::import_secret(*s, "known-aes", known_aes);
  }
  auto kek = test::generate_rsa(4096);
  auto kek_der = test::public_der(kek.get());
  std::string kek_b64 = base64_encode(kek_der);
  std::string out = token.dir() + "/material.bin";

  auto r = byokctl(token, {"aws-kms-export", "--aes-key", "known-aes", "--kek-data", kek_b64,
                           "--out", out, "--algorithm", "RSAES_OAEP_SHA_1"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto blob = slurp(out);
  CHECK(blob.size() == 512);
  CHECK(test::oaep_decrypt(kek.get(), OaepHash::Sha1,
                           {reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()}) ==
        known_aes);
  check_no_leak(r, known_aes);

  std::string kek_file = token.write_file("kek.der", to_string(kek_der));
  auto r2 = byokctl(token, {"aws-kms-export", "--aes-key", "known-aes", "--kek-file", kek_file,
                            "--out", out, "--algorithm", "RSA_AES_KEY_WRAP_SHA_1"});
  REQUIRE(r2.code == 0);
  blob = slurp(out);
  CHECK(test::unwrap_rsa_aes(kek.get(), OaepHash::Sha1,
                             {reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()}) ==
        known_aes);
  check_no_leak(r2, known_aes);

  // The default (SHA-256): SoftHSM 2.6.1 cannot, exit 5 with a clear message; kryoptic can.
  auto r3 = byokctl(
      token, {"aws-kms-export", "--aes-key", "known-aes", "--kek-file", kek_file, "--out", out});
  if (test::TestToken::kind() == test::TokenKind::SoftHsm) {
    CHECK(r3.code == 5);
    CHECK(r3.err.find("does not accept SHA-256") != std::string::npos);
  } else {
    INFO(r3.err);
    REQUIRE(r3.code == 0);
    blob = slurp(out);
    CHECK(test::oaep_decrypt(kek.get(), OaepHash::Sha256,
                             {reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()}) ==
          known_aes);
    check_no_leak(r3, known_aes);
  }

  // The software path does SHA-256, from a raw key file.
  std::string key_file = token.write_file("aes.key", to_string(known_aes));
  auto r4 = byokctl(token,
                    {"aws-kms-export", "--software-key", key_file, "--kek-file", kek_file, "--out",
                     out, "--algorithm", "RSAES_OAEP_SHA_256"},
                    false);
  INFO(r4.err);
  REQUIRE(r4.code == 0);
  blob = slurp(out);
  CHECK(test::oaep_decrypt(kek.get(), OaepHash::Sha256,
                           {reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()}) ==
        known_aes);
  check_no_leak(r4, known_aes);
}

TEST_CASE("byokctl: exit codes and messages for the usual mistakes") {
  test::TestToken token;
  {
    auto s = token.raw_session();
    test::import_secret(*s, "known-aes", test::random_bytes(16));
  }
  auto small = test::generate_rsa(1024);
  std::string small_pem = token.write_file("small.pem", test::public_pem(small.get()));
  auto kek = test::generate_rsa(2048);
  std::string kek_pem = token.write_file("kek.pem", test::public_pem(kek.get()));
  std::string out = token.dir() + "/x.bin";

  auto missing = byokctl(token, {"aws-kms-export", "--aes-key", "nope", "--kek-file", kek_pem,
                                 "--out", out, "--algorithm", "RSAES_OAEP_SHA_1"});
  CHECK(missing.code == 3);
  CHECK(missing.err.find("label \"nope\"") != std::string::npos);

  auto too_small = byokctl(token, {"aws-kms-export", "--aes-key", "known-aes", "--kek-file",
                                   small_pem, "--out", out, "--algorithm", "RSAES_OAEP_SHA_1"});
  CHECK(too_small.code == 2);
  CHECK(too_small.err.find("at least 2048") != std::string::npos);

  std::string bad_pin = token.write_file("bad-pin", "0000\n");
  std::string cmd_pin_args[] = {"keys",    "--module",    test::TestToken::module_path(),
                                "--token", token.label(), "--pin-file",
                                bad_pin};
  auto wrong_pin = byokctl(
      token, std::vector<std::string>(std::begin(cmd_pin_args), std::end(cmd_pin_args)), false);
  CHECK(wrong_pin.code == 4);
  CHECK(wrong_pin.err.find("CKR_PIN_INCORRECT") != std::string::npos);

  auto gen = byokctl(token, {"generate", "--type", "ed25519", "--label", "ed", "--json"});
  REQUIRE(gen.code == 0);
  CHECK(nlohmann::json::parse(gen.out)["type"] == "ed25519");
  auto ed = byokctl(token, {"wrap", "--format", "raw-rsa-aes", "--hash", "sha1", "--key", "ed",
                            "--kek-file", kek_pem, "--out", out});
  auto chacha = byokctl(token, {"generate", "--type", "chacha20-poly1305", "--label", "c"});
  if (test::TestToken::kind() == test::TokenKind::SoftHsm) {  // neither is possible there
    CHECK(ed.code == 5);
    CHECK(ed.err.find("cannot wrap ed25519") != std::string::npos);
    CHECK(chacha.code == 5);
  } else {
    INFO(ed.err << chacha.err);
    CHECK(ed.code == 0);
    CHECK(chacha.code == 0);
  }

  auto pin_flag = byokctl(token, {"keys", "--pin", "1234"}, false);
  CHECK(pin_flag.code == 2);
  CHECK(pin_flag.err.find("never accepted on the command line") != std::string::npos);
  auto unknown = byokctl(token, {"keys", "--frobnicate"});
  CHECK(unknown.code == 2);
  auto help = byokctl(token, {"wrap", "--help"}, false);
  CHECK(help.code == 0);
  CHECK(help.out.find("--format") != std::string::npos);
  CHECK(byokctl(token, {"no-such-command"}, false).code == 2);

  auto keys = byokctl(token, {"keys", "--json"});
  REQUIRE(keys.code == 0);
  auto arr = nlohmann::json::parse(keys.out);
  // The ChaCha20 key "c" exists only where the token could generate it (not SoftHSM2).
  const bool has_chacha = test::TestToken::kind() != test::TokenKind::SoftHsm;
  REQUIRE(arr.size() == (has_chacha ? 3u : 2u));
  if (has_chacha) {
    CHECK(arr[0]["label"] == "c");
    CHECK(arr[0]["type"] == "chacha20-poly1305");
    arr.erase(arr.begin());
  }
  CHECK(arr[0]["label"] == "ed");
  CHECK(arr[1]["label"] == "known-aes");
  CHECK(arr[1]["type"] == "aes128-gcm96");
}

TEST_CASE(
    "byokctl wrap: gcp and transit formats through the HSM, config file and env for the "
    "connection") {
  test::TestToken token;
  auto known_aes = test::random_bytes(32);
  {
    auto s = token.raw_session();
    test::import_secret(*s, "known-aes", known_aes);
  }
  auto kek = test::generate_rsa(3072);
  std::string kek_pem = token.write_file("kek.pem", test::public_pem(kek.get()));
  std::string config = token.write_file("hsm.yaml", "module: " + test::TestToken::module_path() +
                                                        "\ntoken: " + token.label() +
                                                        "\npinFile: " + token.pin_file() + "\n");
  std::string out = token.dir() + "/gcp.bin";
  auto r =
      byokctl(token,
              {"wrap", "--format", "gcp", "--algorithm", "RSA_OAEP_3072_SHA1_AES_256", "--key-id",
               "0b0c", "--kek-file", kek_pem, "--out", out, "--config", config, "--json"},
              false);
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["kekBits"] == 3072);
  auto blob = slurp(out);
  CHECK(test::unwrap_rsa_aes(kek.get(), OaepHash::Sha1,
                             {reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()}) ==
        known_aes);
  check_no_leak(r, known_aes);

  // Environment only; transit SHA1, base64 on stdout.
  setenv("BYOK_PKCS11_MODULE", test::TestToken::module_path().c_str(), 1);
  setenv("BYOK_HSM_TOKEN", token.label().c_str(), 1);
  setenv("BYOK_HSM_PIN", token.pin().c_str(), 1);
  auto t = byokctl(token,
                   {"wrap", "--format", "transit", "--algorithm", "SHA1", "--key", "known-aes",
                    "--kek-file", kek_pem},
                   false);
  unsetenv("BYOK_PKCS11_MODULE");
  unsetenv("BYOK_HSM_TOKEN");
  unsetenv("BYOK_HSM_PIN");
  INFO(t.err);
  REQUIRE(t.code == 0);
  auto tb = base64_decode(t.out);
  REQUIRE(tb.has_value());
  CHECK(test::unwrap_rsa_aes(kek.get(), OaepHash::Sha1, *tb) == known_aes);
  check_no_leak(t, known_aes);

  // Thalassa's hashFunction words (sha1; sha256 is the default SoftHSM cannot do).
  auto th = byokctl(token, {"wrap", "--format", "thalassa", "--algorithm", "sha1", "--key",
                            "known-aes", "--kek-file", kek_pem});
  INFO(th.err);
  REQUIRE(th.code == 0);
  auto thb = base64_decode(th.out);
  REQUIRE(thb.has_value());
  CHECK(test::unwrap_rsa_aes(kek.get(), OaepHash::Sha1, *thb) == known_aes);

  // The gcp method's KEK size is enforced.
  auto wrong =
      byokctl(token, {"wrap", "--format", "gcp", "--algorithm", "RSA_OAEP_4096_SHA1_AES_256",
                      "--key", "known-aes", "--kek-file", kek_pem, "--out", out});
  CHECK(wrong.code == 2);
}

TEST_CASE(
    "byokctl: generate --wrap-with-trusted binds a key to KEKs the security officer "
    "installs with trust-kek, and wrap refuses any other",
    "[trusted-kek]") {
  test::TestToken token("cli-trusted");
  auto kek = test::generate_rsa(2048);
  const std::string kek_file = token.write_file("kms-kek.pem", test::public_pem(kek.get()));
  const std::string other_file =
      token.write_file("other.pem", test::public_pem(test::generate_rsa(2048).get()));
  REQUIRE(byokctl(token,
                  {"generate", "--type", "aes256-gcm96", "--label", "bound", "--wrap-with-trusted"})
              .code == 0);
  auto wrap = [&](const std::string& kek_path) {
    return byokctl(token, {"wrap", "--format", "rsa-oaep", "--hash", "sha1", "--key", "bound",
                           "--kek-file", kek_path, "--out", token.dir() + "/wrapped.bin"});
  };
  auto before = wrap(kek_file);
  CHECK(before.code == 4);  // permission
  CHECK(before.err.find("byokctl trust-kek") != std::string::npos);

  const std::vector<std::string> where = {"--module", test::TestToken::module_path(), "--token",
                                          token.label()};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), where.begin(), where.end());
    return byokctl(token, args, false);
  };
  // The user PIN is refused as SO PIN; the PIN is never taken on the command line.
  CHECK(with({"trust-kek", "--kek-file", kek_file, "--label", "kms", "--so-pin-file",
              token.pin_file()})
            .code == 4);
  CHECK(with({"trust-kek", "--kek-file", kek_file, "--label", "kms", "--so-pin", "1357-so"}).code ==
        2);
  auto trusted = with({"trust-kek", "--kek-file", kek_file, "--label", "kms", "--so-pin-file",
                       token.write_file("so-pin", token.so_pin() + "\n"), "--json"});
  INFO(trusted.err);
  REQUIRE(trusted.code == 0);
  CHECK(nlohmann::json::parse(trusted.out).value("fingerprintSha256", "").size() == 64);

  auto after = wrap(kek_file);
  INFO(after.err);
  CHECK(after.code == 0);
  CHECK(wrap(other_file).code == 4);
}

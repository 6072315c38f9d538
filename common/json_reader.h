#pragma once
// Strict reading of JSON objects for user-written files: every error names the JSON path of the
// offending field, and keys nobody asked for are rejected instead of silently ignored.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace fersweep {

using Json = nlohmann::json;

std::string json_type_name(const Json& value);
std::string join_path(const std::string& path, const std::string& key);

class ObjectReader {
 public:
  // Throws InputError unless `object` is a JSON object.
  ObjectReader(const Json& object, std::string path);

  const std::string& path() const { return path_; }
  std::string path_of(const std::string& key) const { return join_path(path_, key); }
  bool has(const std::string& key) const { return object_.contains(key); }

  // Marks the key as known and returns it, or nullptr when absent.
  const Json* find(const std::string& key);
  const Json& required(const std::string& key);

  std::string string(const std::string& key, std::optional<std::string> fallback = {});
  int64_t integer(const std::string& key, std::optional<int64_t> fallback = {});
  // An integer in [lo, hi] that fits an int; out of range throws "<path>: must be in [lo, hi]".
  int int_in(const std::string& key, int64_t lo, int64_t hi, std::optional<int64_t> fallback = {});
  double number(const std::string& key, std::optional<double> fallback = {});
  bool boolean(const std::string& key, std::optional<bool> fallback = {});

  // Throws InputError naming the first key that no accessor asked for.
  void reject_unknown_keys() const;

 private:
  const Json& object_;
  std::string path_;
  std::set<std::string> seen_;
};

// The deepest nesting of arrays and objects any fersweep input may have. Specs need about six
// levels; the limit keeps recursive code (copies, dumps, comparisons) far from the stack's end.
inline constexpr int kMaxJsonDepth = 64;

// Parses JSON written by a user or read back from a database. Throws InputError, naming `source`,
// for a syntax error (with line:column), nesting deeper than kMaxJsonDepth, or a key repeated in
// one object (with the key's path, as an unknown key is named).
Json parse_json(std::string_view text, const std::string& source);

// A whole file's bytes (a spec, a checkpoint description, a training state), or nothing when it
// cannot be opened or read; the caller names what the file was in its error.
std::optional<std::string> file_text(const std::string& path);

// JSON text for output: as dump(indent), with any invalid UTF-8 in strings (a class name from a
// Latin-1 folder, a database written by hand) replaced by U+FFFD instead of throwing.
std::string json_text(const Json& value, int indent = -1);

// Type checks for loose values; each throws InputError("<path>: expected ..., got ...").
int64_t expect_integer(const Json& value, const std::string& path);
double expect_number(const Json& value, const std::string& path);
std::string expect_string(const Json& value, const std::string& path);
bool expect_boolean(const Json& value, const std::string& path);

}  // namespace fersweep

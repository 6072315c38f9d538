#include "common/json_reader.h"

#include <fmt/format.h>

#include "common/error.h"

namespace fersweep {

std::string json_type_name(const Json& value) {
  if (value.is_number_integer()) return "integer";
  if (value.is_number()) return "number";
  return value.type_name();
}

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

namespace {
[[noreturn]] void type_error(const std::string& path, const char* expected, const Json& value) {
  throw InputError(fmt::format("{}: expected {}, got {} {}", path, expected, json_type_name(value),
                               value.dump()));
}
}  // namespace

int64_t expect_integer(const Json& value, const std::string& path) {
  if (!value.is_number_integer()) type_error(path, "an integer", value);
  return value.get<int64_t>();
}

double expect_number(const Json& value, const std::string& path) {
  if (!value.is_number()) type_error(path, "a number", value);
  return value.get<double>();
}

std::string expect_string(const Json& value, const std::string& path) {
  if (!value.is_string()) type_error(path, "a string", value);
  return value.get<std::string>();
}

bool expect_boolean(const Json& value, const std::string& path) {
  if (!value.is_boolean()) type_error(path, "true or false", value);
  return value.get<bool>();
}

ObjectReader::ObjectReader(const Json& object, std::string path)
    : object_(object), path_(std::move(path)) {
  if (!object_.is_object()) type_error(path_.empty() ? "(top level)" : path_, "an object", object);
}

const Json* ObjectReader::find(const std::string& key) {
  seen_.insert(key);
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

const Json& ObjectReader::required(const std::string& key) {
  const Json* value = find(key);
  if (!value) throw InputError(fmt::format("{}: required field is missing", path_of(key)));
  return *value;
}

std::string ObjectReader::string(const std::string& key, std::optional<std::string> fallback) {
  const Json* value = fallback ? find(key) : &required(key);
  return value ? expect_string(*value, path_of(key)) : *fallback;
}

int64_t ObjectReader::integer(const std::string& key, std::optional<int64_t> fallback) {
  const Json* value = fallback ? find(key) : &required(key);
  return value ? expect_integer(*value, path_of(key)) : *fallback;
}

int ObjectReader::int_in(const std::string& key, int64_t lo, int64_t hi,
                         std::optional<int64_t> fallback) {
  const int64_t v = integer(key, fallback);
  if (v < lo || v > hi) {
    throw InputError(fmt::format("{}: must be in [{}, {}], got {}", path_of(key), lo, hi, v));
  }
  return static_cast<int>(v);
}

double ObjectReader::number(const std::string& key, std::optional<double> fallback) {
  const Json* value = fallback ? find(key) : &required(key);
  return value ? expect_number(*value, path_of(key)) : *fallback;
}

bool ObjectReader::boolean(const std::string& key, std::optional<bool> fallback) {
  const Json* value = fallback ? find(key) : &required(key);
  return value ? expect_boolean(*value, path_of(key)) : *fallback;
}

void ObjectReader::reject_unknown_keys() const {
  for (const auto& [key, value] : object_.items()) {
    if (!seen_.contains(key)) {
      std::string known;
      for (const auto& k : seen_) known += (known.empty() ? "" : ", ") + k;
      throw InputError(fmt::format("{}: unknown field (known fields: {})", path_of(key), known));
    }
  }
}

}  // namespace fersweep

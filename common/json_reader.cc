#include "common/json_reader.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>

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

namespace {

// Where the parser is: one frame per open array or object, holding the position of the value
// being read in it (an index or a key) and, for objects, the keys seen so far.
class ParsePosition {
 public:
  explicit ParsePosition(const std::string& source) : source_(source) {}

  bool on_event(int depth, Json::parse_event_t event, const Json& parsed) {
    using Event = Json::parse_event_t;
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        next_element();
        if (depth + 1 > kMaxJsonDepth) {
          throw InputError(fmt::format("{}: {}: nested deeper than {} levels", source_,
                                       path_or_top(), kMaxJsonDepth));
        }
        frames_.push_back({event == Event::array_start, -1, {}, {}});
        break;
      case Event::key: {
        Frame& object = frames_.back();
        object.key = parsed.get<std::string>();
        if (!object.keys.insert(object.key).second) {
          throw InputError(fmt::format("{}: {}: key appears twice in one object", source_, path()));
        }
        break;
      }
      case Event::value:
        next_element();
        break;
      case Event::object_end:
      case Event::array_end:
        frames_.pop_back();
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool array = false;
    int64_t index = -1;
    std::string key;
    std::set<std::string> keys;
  };

  void next_element() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }
  std::string path() const {
    std::string out;
    for (const Frame& frame : frames_) {
      out = frame.array ? fmt::format("{}[{}]", out, frame.index) : join_path(out, frame.key);
    }
    return out;
  }
  std::string path_or_top() const {
    const std::string p = path();
    return p.empty() ? "(top level)" : p;
  }

  const std::string& source_;
  std::vector<Frame> frames_;
};

}  // namespace

std::string json_text(const Json& value, int indent) {
  return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::optional<std::string> file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

Json parse_json(std::string_view text, const std::string& source) {
  ParsePosition position(source);
  try {
    return Json::parse(text, [&](int depth, Json::parse_event_t event, Json& parsed) {
      return position.on_event(depth, event, parsed);
    });
  } catch (const Json::parse_error& e) {
    const size_t upto = std::min(e.byte == 0 ? 0 : e.byte - 1, text.size());
    const size_t line = 1 + std::count(text.begin(), text.begin() + upto, '\n');
    const size_t line_start = text.rfind('\n', upto == 0 ? 0 : upto - 1);
    const size_t column = line_start == std::string_view::npos ? upto + 1 : upto - line_start;
    throw InputError(fmt::format("{}:{}:{}: invalid JSON ({})", source, line, column, e.what()));
  }
}

}  // namespace fersweep

#include "results/filter.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "common/error.h"
#include "common/json_reader.h"
#include "common/trial.h"

namespace fersweep::results {
namespace {

struct Token {
  enum Kind { kWord, kString, kList, kOperator, kOpen, kClose, kComma, kEnd } kind;
  std::string text;  // kList: the list as compact JSON
  size_t position;
};

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
         c == '+';
}

[[noreturn]] void fail_at(const std::string& text, size_t at, const std::string& why) {
  throw InputError(fmt::format("--where: {} at column {}: \"{}\"", why, at + 1, text));
}

// The end of the [list] that starts at `open`: its matching ], skipping brackets inside JSON
// strings.
size_t list_end(const std::string& s, size_t open) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = open; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[') {
      ++depth;
    } else if (c == ']' && --depth == 0) {
      return i;
    }
  }
  fail_at(s, open, "unterminated [list]");
}

// A [list] value: JSON, compared as the compact JSON text SQLite's json_extract gives an array.
Token list_token(const std::string& s, size_t open, size_t close) {
  Json list;
  try {
    list = parse_json(std::string_view(s).substr(open, close - open + 1), "[list]");
  } catch (const InputError& e) {
    fail_at(s, open, e.what());
  }
  return {Token::kList, list.dump(), open};
}

std::vector<Token> tokenize(const std::string& s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '\'' || c == '"') {
      const size_t end = s.find(c, i + 1);
      if (end == std::string::npos) fail_at(s, i, "unterminated quoted string");
      out.push_back({Token::kString, s.substr(i + 1, end - i - 1), i});
      i = end + 1;
    } else if (c == '[') {
      const size_t end = list_end(s, i);
      out.push_back(list_token(s, i, end));
      i = end + 1;
    } else if (c == '(' || c == ')' || c == ',') {
      out.push_back({c == '('   ? Token::kOpen
                     : c == ')' ? Token::kClose
                                : Token::kComma,
                     std::string(1, c), i});
      ++i;
    } else if (c == '=' || c == '<' || c == '>' || c == '!') {
      std::string op(1, c);
      if (i + 1 < s.size() && s[i + 1] == '=') op += '=';
      if (op == "!") fail_at(s, i, "expected != ");
      out.push_back({Token::kOperator, op, i});
      i += op.size();
    } else if (word_char(c)) {
      const size_t start = i;
      while (i < s.size() && word_char(s[i])) ++i;
      out.push_back({Token::kWord, s.substr(start, i - start), start});
    } else {
      fail_at(s, i, fmt::format("unexpected character '{}'", c));
    }
  }
  out.push_back({Token::kEnd, "", s.size()});
  return out;
}

bool identifier(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A value as typed: a number (signed or not), true or false, a [list], or text (a bare word or a
// quoted string). Booleans are numbers to SQLite: json_extract gives 1 for true.
struct Value {
  enum Kind { kNumber, kBoolean, kList, kText } kind;
  double number = 0;
  std::string text;
};

// Numbers as C++ reads them, with a leading + allowed; nan and infinities are not comparable.
std::optional<double> number_in(const std::string& word) {
  const std::string_view digits =
      word.starts_with('+') ? std::string_view(word).substr(1) : std::string_view(word);
  if (digits.empty() || digits.front() == '+' || (word.starts_with('+') && digits.front() == '-'))
    return std::nullopt;
  double number = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return number;
}

// The SQL of each field kind, and what it can be compared with.
enum class FieldKind { kStatus, kInteger, kParameter, kMetric };

class Compiler {
 public:
  Compiler(const std::string& text, const std::vector<std::string>& parameters,
           const std::vector<std::string>& metrics)
      : text_(text), tokens_(tokenize(text)), parameters_(parameters), metrics_(metrics) {}

  CompiledFilter compile() {
    if (peek().kind == Token::kEnd) return out_;
    for (;;) {
      clause();
      if (peek().kind == Token::kEnd) return out_;
      const Token& joiner = next();
      if (joiner.kind != Token::kWord || lower(joiner.text) != "and") {
        fail(joiner, "expected \"and\" between clauses");
      }
      out_.sql += " AND ";
    }
  }

 private:
  const Token& peek() const { return tokens_[at_]; }
  const Token& next() { return tokens_[at_ < tokens_.size() - 1 ? at_++ : at_]; }
  [[noreturn]] void fail(const Token& t, const std::string& why) const {
    fail_at(text_, t.position, why);
  }

  struct Field {
    FieldKind kind;
    std::string name, sql;
  };

  // The SQL of a field, with its name bound where it is a parameter or a metric.
  Field field(const Token& t) {
    if (t.kind != Token::kWord) fail(t, "expected a field name");
    std::string name = t.text;
    if (name == "status") return {FieldKind::kStatus, name, "t.status"};
    if (name == "epochs") return {FieldKind::kInteger, name, "t.epochs_completed"};
    if (name == "trial") return {FieldKind::kInteger, name, "t.id"};
    FieldKind kind;
    if (name.starts_with("params.")) {
      kind = FieldKind::kParameter, name = name.substr(7);
    } else if (name.starts_with("metrics.")) {
      kind = FieldKind::kMetric, name = name.substr(8);
    } else if (std::find(parameters_.begin(), parameters_.end(), name) != parameters_.end()) {
      kind = FieldKind::kParameter;
    } else if (std::find(metrics_.begin(), metrics_.end(), name) != metrics_.end()) {
      kind = FieldKind::kMetric;
    } else {
      fail(t, fmt::format("unknown field \"{}\" (status, epochs, trial, parameters: {}; "
                          "metrics: {})",
                          name, fmt::join(parameters_, ", "), fmt::join(metrics_, ", ")));
    }
    const char* noun = kind == FieldKind::kParameter ? "param" : "metric";
    if (!identifier(name)) fail(t, fmt::format("bad {} name \"{}\"", noun, name));
    if (kind == FieldKind::kParameter) {
      out_.bindings.emplace_back(fmt::format("$.\"{}\"", name));
      return {kind, name, "json_extract(t.params_json, ?)"};
    }
    out_.bindings.emplace_back(name);
    return {kind, name,
            "(SELECT m.value FROM trial_metrics m WHERE m.trial_id = t.id AND m.name = ?)"};
  }

  Value value(const Token& t) const {
    if (t.kind == Token::kList) return {Value::kList, 0, t.text};
    if (t.kind == Token::kString) return {Value::kText, 0, t.text};
    if (t.kind != Token::kWord) fail(t, "expected a value");
    if (const std::optional<double> number = number_in(t.text)) {
      if (!std::isfinite(*number)) {
        fail(t, fmt::format("{} cannot be compared (stored values are finite numbers)", t.text));
      }
      return {Value::kNumber, *number, {}};
    }
    const std::string word = lower(t.text);
    if (word == "true" || word == "false") return {Value::kBoolean, word == "true" ? 1.0 : 0.0, {}};
    return {Value::kText, 0, t.text};
  }

  // Binds `v` for comparing `f` with `op`, or says why the two cannot be compared.
  void bind(const Field& f, const std::string& op, const Value& v, const Token& at) {
    const bool ordering = op != "=" && op != "!=";
    const bool numeric = v.kind == Value::kNumber || v.kind == Value::kBoolean;
    if (ordering && v.kind != Value::kNumber) {
      fail(at, fmt::format("{} {} needs a number", f.name, op));
    }
    switch (f.kind) {
      case FieldKind::kStatus:
        if (v.kind != Value::kText || !enum_from_name<TrialStatus>(v.text)) {
          fail(at,
               fmt::format("status is one of {}, not {}", enum_choices<TrialStatus>(), at.text));
        }
        break;
      case FieldKind::kInteger:
      case FieldKind::kMetric:
        if (v.kind != Value::kNumber)
          fail(at, fmt::format("{} is a number, not {}", f.name, at.text));
        break;
      case FieldKind::kParameter:
        break;
    }
    if (numeric) {
      out_.bindings.emplace_back(v.number);
    } else {
      out_.bindings.emplace_back(v.text);
    }
  }

  void clause() {
    const Field lhs = field(next());
    const Token& op = next();
    if (op.kind == Token::kWord && lower(op.text) == "in") {
      if (next().kind != Token::kOpen) fail(op, "expected ( after in");
      std::vector<std::string> marks;
      for (;;) {
        const Token& element = next();
        bind(lhs, "=", value(element), element);
        marks.emplace_back("?");
        const Token& after = next();
        if (after.kind == Token::kClose) break;
        if (after.kind != Token::kComma) fail(after, "expected , or )");
      }
      out_.sql += fmt::format("{} IN ({})", lhs.sql, fmt::join(marks, ", "));
      return;
    }
    if (op.kind != Token::kOperator) fail(op, "expected an operator (= != < <= > >= in)");
    const Token& operand = next();
    bind(lhs, op.text, value(operand), operand);
    out_.sql += fmt::format("{} {} ?", lhs.sql, op.text);
  }

  const std::string& text_;
  std::vector<Token> tokens_;
  size_t at_ = 0;
  const std::vector<std::string>& parameters_;
  const std::vector<std::string>& metrics_;
  CompiledFilter out_;
};

}  // namespace

CompiledFilter compile_filter(const std::string& text, const std::vector<std::string>& parameters,
                              const std::vector<std::string>& metrics) {
  return Compiler(text, parameters, metrics).compile();
}

}  // namespace fersweep::results

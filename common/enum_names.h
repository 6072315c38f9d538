#pragma once
// Enums that travel as text (in specs, JSON messages and the database) name their values in one
// table each, a specialisation of EnumNames, so that the code works with the enum and only the
// edges convert:
//
//   template <> struct EnumNames<Optimizer> {
//     static constexpr std::array<EnumName<Optimizer>, 2> table{{{Optimizer::kAdam, "adam"}, ...}};
//   };
#include <array>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/error.h"

namespace fersweep {

template <typename E>
struct EnumName {
  E value;
  std::string_view name;
};

template <typename E>
struct EnumNames;  // specialised with a `table` for each named enum

template <typename E>
concept NamedEnum = std::is_enum_v<E> && requires {
  EnumNames<E>::table;
};

template <NamedEnum E>
std::string to_string(E value) {
  for (const auto& entry : EnumNames<E>::table) {
    if (entry.value == value) return std::string(entry.name);
  }
  return "unknown";
}

template <NamedEnum E>
std::ostream& operator<<(std::ostream& out, E value) {
  return out << to_string(value);
}

// The value named `name`, or nothing.
template <NamedEnum E>
std::optional<E> enum_from_name(std::string_view name) {
  for (const auto& entry : EnumNames<E>::table) {
    if (entry.name == name) return entry.value;
  }
  return std::nullopt;
}

template <NamedEnum E>
std::vector<std::string> enum_names() {
  std::vector<std::string> names;
  for (const auto& entry : EnumNames<E>::table) names.emplace_back(entry.name);
  return names;
}

// "a, b, c": the choices, for error messages.
template <NamedEnum E>
std::string enum_choices() {
  std::string out;
  for (const auto& entry : EnumNames<E>::table) {
    if (!out.empty()) out += ", ";
    out += entry.name;
  }
  return out;
}

// The value named `name`; InputError "<what>: unknown value "x" (choose from ...)" otherwise.
template <NamedEnum E>
E enum_from_name(std::string_view name, std::string_view what) {
  if (const std::optional<E> value = enum_from_name<E>(name)) return *value;
  throw InputError(std::string(what) + ": unknown value \"" + std::string(name) +
                   "\" (choose from " + enum_choices<E>() + ")");
}

}  // namespace fersweep

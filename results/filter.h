#pragma once
// The `results list --where` filter language: clauses joined by `and`, each
//   FIELD OP VALUE        OP one of = != < <= > >=
//   FIELD in (V1, V2 ...)
// FIELD is `status`, `epochs`, `trial`, a parameter name (or params.NAME) or a final metric name
// (or metrics.NAME); VALUE a number, a bare word, a [list] or a quoted string. The filter compiles
// to a SQL fragment whose every value and name is a bound parameter: nothing a user types is
// pasted into SQL.
#include <string>
#include <variant>
#include <vector>

namespace fersweep::results {

struct CompiledFilter {
  std::string sql;  // e.g. "t.status = ? AND json_extract(t.params_json, ?) < ?"; empty: all
  std::vector<std::variant<double, std::string>> bindings;  // in placeholder order
};

// What a bare FIELD may name: the sweep's parameter and metric names. InputError, quoting the
// offending part of `text`, for a syntax error or an unknown field.
CompiledFilter compile_filter(const std::string& text, const std::vector<std::string>& parameters,
                              const std::vector<std::string>& metrics);

}  // namespace fersweep::results

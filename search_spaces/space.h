#pragma once
// The search space as samplers see it: which parameters are active in a partial config, and the
// one place where a distribution turns a point of [0, 1) into a value.
#include <optional>
#include <vector>

#include "common/random.h"

#include "search_spaces/spec.h"

namespace fersweep::search {

// Whether `parameter` is sampled, given the values already chosen for the parameters before it
// (parents precede their conditionals in SweepSpec::parameters).
bool is_active(const Parameter& parameter, const Json& config);

// The value at quantile `u` in [0, 1) of the parameter's distribution: categorical choices and
// integers in equal shares, log_uniform uniform in log space, q_uniform on multiples of q.
Json value_at(const Parameter& parameter, double u);

// The inverse of value_at: the centre of the quantile cell `value` owns (nothing when it is not
// one of the parameter's values).
std::optional<double> unit_of(const Parameter& parameter, const Json& value);

// A config from one coordinate per parameter; inactive parameters are left out.
Json config_from_unit(const std::vector<Parameter>& parameters, const std::vector<double>& u);

// An independent random config: one uniform draw per parameter, active or not, so the stream
// position of every later draw does not depend on which conditions held.
Json random_config(const std::vector<Parameter>& parameters, Rng& rng);

}  // namespace fersweep::search

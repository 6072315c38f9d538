#include "search_spaces/tpe.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <span>

#include "common/pareto.h"
#include "search_spaces/space.h"

namespace fersweep::search {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kMaxBelow = 25;     // Optuna's cap on the size of the good group
constexpr int kFlatWeights = 25;  // the newest observations all weigh 1; older ones ramp down

bool is_categorical(const Parameter& p) {
  return p.distribution == Distribution::kValues;
}

// The interval kernels live on: log space for log_uniform; integers and multiples of q own the
// cell of width `step` around them.
struct NumericSpace {
  double low = 0, high = 1, step = 0;
  double grid_low = 0;  // the smallest value on the grid (int and q_uniform)
};

NumericSpace numeric_space(const Parameter& p) {
  switch (p.distribution) {
    case Distribution::kLogUniform:
      return {std::log(p.min), std::log(p.max), 0, 0};
    case Distribution::kIntUniform:
      return {p.min - 0.5, p.max + 0.5, 1, p.min};
    case Distribution::kQUniform: {
      const double lo = std::ceil(p.min / p.q) * p.q, hi = std::floor(p.max / p.q) * p.q;
      return {lo - p.q / 2, hi + p.q / 2, p.q, lo};
    }
    default:
      return {p.min, p.max, 0, 0};
  }
}

// A parameter's value as a kernel coordinate (category index for categorical), and back.
std::optional<double> encode(const Parameter& p, const Json& value) {
  if (is_categorical(p)) {
    auto it = std::find(p.values.begin(), p.values.end(), value);
    if (it == p.values.end()) return std::nullopt;
    return static_cast<double>(it - p.values.begin());
  }
  if (!value.is_number()) return std::nullopt;
  const double x = value.get<double>();
  return p.distribution == Distribution::kLogUniform ? std::log(x) : x;
}

Json decode(const Parameter& p, double x) {
  if (is_categorical(p)) return p.values[static_cast<size_t>(x)];
  const NumericSpace s = numeric_space(p);
  switch (p.distribution) {
    case Distribution::kLogUniform:
      return std::clamp(std::exp(x), p.min, p.max);
    case Distribution::kIntUniform:
      return static_cast<int64_t>(std::clamp(std::round(x), p.min, p.max));
    case Distribution::kQUniform: {
      const double steps = std::round((x - s.grid_low) / s.step);
      const double top = std::floor((s.high - s.step / 2 - s.grid_low) / s.step + 0.5);
      return s.grid_low + std::clamp(steps, 0.0, top) * s.step;
    }
    default:
      return std::clamp(x, p.min, p.max);
  }
}

double normal_cdf(double z) {
  return 0.5 * std::erfc(-z / std::numbers::sqrt2);
}

double log_sum_exp(const std::vector<double>& terms) {
  const double top = *std::max_element(terms.begin(), terms.end());
  if (!std::isfinite(top)) return top;
  double sum = 0;
  for (double t : terms) sum += std::exp(t - top);
  return top + std::log(sum);
}

// Observations' coordinates, one row of `dims` per observation: flat, because the above group
// reaches tens of thousands of rows and is rebuilt at every suggestion.
struct Points {
  size_t dims = 0;
  std::vector<double> values;
  std::vector<double> weights;  // per row; empty: by age (recency_weights)
  size_t size() const { return dims == 0 ? 0 : values.size() / dims; }
  double at(size_t row, size_t d) const { return values[row * dims + d]; }
};

// Optuna's default_weights: flat for the newest 25, a linear ramp down to 1/n before them.
std::vector<double> recency_weights(size_t n) {
  std::vector<double> w(n, 1.0);
  if (n <= static_cast<size_t>(kFlatWeights)) return w;
  const size_t ramp = n - kFlatWeights;
  for (size_t i = 0; i < ramp; ++i) {
    w[i] = ramp == 1 ? 1.0 / n : 1.0 / n + (1 - 1.0 / n) * static_cast<double>(i) / (ramp - 1);
  }
  return w;
}

void normalise(std::vector<double>& weights) {
  double total = 0;
  for (double w : weights) total += w;
  for (double& w : weights) w /= total;
}

// An index drawn with the given probabilities (which sum to 1).
size_t draw_index(Rng& rng, std::span<const double> probabilities) {
  const double u = uniform01(rng);
  double cumulative = 0;
  size_t i = 0;
  for (; i + 1 < probabilities.size(); ++i) {
    cumulative += probabilities[i];
    if (u < cumulative) break;
  }
  return i;
}

// A Parzen mixture over some parameters: one component per observation plus a prior component
// (uniform over the space), each a product of truncated normals / categorical distributions.
class ParzenEstimator {
 public:
  // `bandwidth`: the multivariate kernels' (TpeOptions::bandwidth, resolved).
  ParzenEstimator(const std::vector<const Parameter*>& parameters, const Points& points,
                  const TpeOptions& options, bool multivariate, double bandwidth)
      : parameters_(parameters) {
    const size_t n = points.size();
    const size_t kernels = n + 1;
    weights_ = points.weights.empty() ? recency_weights(n) : points.weights;
    weights_.push_back(options.prior_weight);
    normalise(weights_);

    for (size_t d = 0; d < parameters.size(); ++d) {
      const Parameter& p = *parameters[d];
      Dimension dim;
      if (is_categorical(p)) {
        const size_t choices = dim.choices = p.values.size();
        dim.probabilities.resize(kernels * choices);
        for (size_t k = 0; k < kernels; ++k) {
          std::vector<double> row(choices, options.prior_weight / static_cast<double>(kernels));
          if (k < n) row[static_cast<size_t>(points.at(k, d))] += 1;
          normalise(row);
          std::copy(row.begin(), row.end(), dim.probabilities.begin() + k * choices);
        }
        for (double probability : dim.probabilities) {
          dim.log_probabilities.push_back(std::log(std::max(probability, 1e-300)));
        }
      } else {
        dim.space = numeric_space(p);
        const double low = dim.space.low, high = dim.space.high, range = high - low;
        for (size_t k = 0; k < n; ++k) dim.mu.push_back(points.at(k, d));
        if (multivariate) {
          const double width = bandwidth == TpeOptions::kScottBandwidth
                                   ? weighted_deviation(dim.mu, weights_)
                                   : bandwidth * range;
          const double shrink = std::pow(std::max<double>(1, n), -1.0 / (parameters.size() + 4));
          dim.sigma.assign(n, width * shrink);
        } else {
          dim.sigma = neighbour_bandwidths(dim.mu, low, high);
        }
        const double min_sigma = range / std::min(100.0, 1.0 + static_cast<double>(kernels));
        for (double& s : dim.sigma) s = std::clamp(s, min_sigma, range);
        dim.mu.push_back(0.5 * (low + high));  // the prior
        dim.sigma.push_back(range);
        // What does not depend on the point: each kernel's normaliser and truncated mass.
        for (size_t k = 0; k < kernels; ++k) {
          const double mu = dim.mu[k], sigma = dim.sigma[k];
          const double inside = normal_cdf((high - mu) / sigma) - normal_cdf((low - mu) / sigma);
          dim.log_scale.push_back(std::log(sigma * std::sqrt(2 * std::numbers::pi)));
          dim.log_inside.push_back(std::log(std::max(inside, 1e-300)));
        }
      }
      dimensions_.push_back(std::move(dim));
    }
    for (double w : weights_) log_weights_.push_back(std::log(w));
  }

  // `terms`: scratch space, kept by the caller so that thousands of components cost no
  // allocation per candidate.
  double log_pdf(const std::vector<double>& x, std::vector<double>& terms) const {
    terms = log_weights_;
    for (size_t d = 0; d < dimensions_.size(); ++d) add_log_component(d, x[d], terms);
    return log_sum_exp(terms);
  }

  std::vector<double> sample(Rng& rng) const {
    // Pick one component for all parameters, then draw each coordinate from it.
    const size_t k = draw_index(rng, weights_);
    std::vector<double> x(dimensions_.size());
    for (size_t d = 0; d < dimensions_.size(); ++d) {
      const Dimension& dim = dimensions_[d];
      if (!dim.probabilities.empty()) {
        x[d] = static_cast<double>(
            draw_index(rng, std::span(dim.probabilities).subspan(k * dim.choices, dim.choices)));
      } else {
        // Rejection keeps the draw exactly truncated-normal; mu lies inside and sigma is at most
        // the range, so at least a third of the draws land inside.
        double draw = normal(rng, dim.mu[k], dim.sigma[k]);
        for (int attempt = 0; attempt < 1000 && (draw < dim.space.low || draw > dim.space.high);
             ++attempt) {
          draw = normal(rng, dim.mu[k], dim.sigma[k]);
        }
        draw = std::clamp(draw, dim.space.low, dim.space.high);
        x[d] = draw;
        if (dim.space.step > 0) {  // snap to the grid, as the value will be
          x[d] = *encode(*parameters_[d], decode(*parameters_[d], draw));
        }
      }
    }
    return x;
  }

 private:
  struct Dimension {
    NumericSpace space;
    std::vector<double> mu, sigma;              // numeric: per component
    std::vector<double> log_scale, log_inside;  // numeric: log(sigma sqrt(2 pi)), log mass
    size_t choices = 0;                         // categorical: number of choices
    std::vector<double> probabilities;          // categorical: [component * choices + choice]
    std::vector<double> log_probabilities;
  };

  // The standard deviation of `mus` under the first mus.size() of `weights` (the prior's
  // trails): Scott's rule's scale. Zero for one point; the caller's floor then applies.
  static double weighted_deviation(const std::vector<double>& mus,
                                   const std::vector<double>& weights) {
    double total = 0, mean = 0;
    for (size_t k = 0; k < mus.size(); ++k) {
      total += weights[k];
      mean += weights[k] * mus[k];
    }
    if (!(total > 0)) return 0;
    mean /= total;
    double variance = 0;
    for (size_t k = 0; k < mus.size(); ++k) variance += weights[k] * std::pow(mus[k] - mean, 2);
    return std::sqrt(variance / total);
  }

  // Univariate bandwidths: the larger gap to a neighbour, with the prior's centre and the
  // interval ends taking part (Optuna's rule without endpoint kernels).
  static std::vector<double> neighbour_bandwidths(const std::vector<double>& mus, double low,
                                                  double high) {
    std::vector<double> with_prior(mus);
    with_prior.push_back(0.5 * (low + high));
    std::vector<size_t> order(with_prior.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return with_prior[a] < with_prior[b]; });
    std::vector<double> sorted{low};
    for (size_t i : order) sorted.push_back(with_prior[i]);
    sorted.push_back(high);
    const size_t m = with_prior.size();
    std::vector<double> sorted_sigma(m);
    for (size_t i = 0; i < m; ++i) {
      sorted_sigma[i] = std::max(sorted[i + 1] - sorted[i], sorted[i + 2] - sorted[i + 1]);
    }
    if (sorted.size() >= 4) {
      sorted_sigma.front() = sorted[2] - sorted[1];
      sorted_sigma.back() = sorted[m] - sorted[m - 1];
    }
    std::vector<double> sigma(m);
    for (size_t i = 0; i < m; ++i) sigma[order[i]] = sorted_sigma[i];
    sigma.resize(mus.size());
    return sigma;
  }

  // terms[k] += log density of component k's `d`-th factor at x, for every component.
  void add_log_component(size_t d, double x, std::vector<double>& terms) const {
    const Dimension& dim = dimensions_[d];
    const size_t kernels = terms.size();
    if (!dim.probabilities.empty()) {
      const auto choice = static_cast<size_t>(x);
      for (size_t k = 0; k < kernels; ++k) {
        terms[k] += dim.log_probabilities[k * dim.choices + choice];
      }
      return;
    }
    if (dim.space.step > 0) {
      const double upper = std::min(x + dim.space.step / 2, dim.space.high);
      const double lower = std::max(x - dim.space.step / 2, dim.space.low);
      for (size_t k = 0; k < kernels; ++k) {
        const double mu = dim.mu[k], sigma = dim.sigma[k];
        const double mass = normal_cdf((upper - mu) / sigma) - normal_cdf((lower - mu) / sigma);
        terms[k] += std::log(std::max(mass, 1e-300)) - dim.log_inside[k];
      }
      return;
    }
    const double* mu = dim.mu.data();
    const double* sigma = dim.sigma.data();
    const double* log_scale = dim.log_scale.data();
    const double* log_inside = dim.log_inside.data();
    double* out = terms.data();
    for (size_t k = 0; k < kernels; ++k) {
      const double z = (x - mu[k]) / sigma[k];
      out[k] += -0.5 * z * z - log_scale[k] - log_inside[k];
    }
  }

  std::vector<const Parameter*> parameters_;
  std::vector<Dimension> dimensions_;
  std::vector<double> weights_;  // per component, the prior last; they sum to 1
  std::vector<double> log_weights_;
};

// The coordinates of `parameters` in each observation that has all of them.
// `space` is the sampler's parameter list, which `parameters` point into.
// `weights`: one per observation of `side`, or empty (weights by age).
Points coordinates(const std::vector<Parameter>& space,
                   const std::vector<const Parameter*>& parameters,
                   const std::vector<const TpeSampler::Observation*>& side,
                   const std::vector<double>& weights) {
  Points points{parameters.size(), {}, {}};
  points.values.reserve(side.size() * parameters.size());
  for (size_t row = 0; row < side.size(); ++row) {
    const size_t row_start = points.values.size();
    for (const Parameter* p : parameters) {
      const double coordinate = side[row]->encoded[static_cast<size_t>(p - space.data())];
      if (std::isnan(coordinate)) {
        points.values.resize(row_start);
        break;
      }
      points.values.push_back(coordinate);
    }
    if (!weights.empty() && points.values.size() > row_start) {
      points.weights.push_back(weights[row]);
    }
  }
  return points;
}

// MOTPE's kernel weights for the good group: each one's hypervolume contribution relative to
// the largest, with Optuna's reference point; tiny rather than zero, so log weights stay finite.
std::vector<double> contribution_weights(const std::vector<const TpeSampler::Observation*>& below) {
  if (below.size() <= 1) return std::vector<double>(below.size(), 1.0);
  std::vector<ObjectiveVector> losses;
  for (const auto* o : below) losses.push_back(o->losses);
  std::vector<ObjectiveVector> finite;
  for (const auto& l : losses) {
    if (std::all_of(l.begin(), l.end(), [](double x) { return std::isfinite(x); }))
      finite.push_back(l);
  }
  if (finite.empty()) return std::vector<double>(below.size(), 1.0);
  // Points with an infinite loss lie outside the reference box: they contribute nothing.
  std::vector<double> weights = hypervolume_contributions(losses, reference_beyond(finite));
  const double largest = *std::max_element(weights.begin(), weights.end());
  for (double& w : weights) w = largest > 0 ? std::max(w / largest, 1e-12) : 1.0;
  return weights;
}

}  // namespace

TpeSampler::TpeSampler(const std::vector<Parameter>& parameters, const TpeOptions& options,
                       bool maximize, uint64_t seed)
    : TpeSampler(parameters, options, std::vector<bool>{maximize}, seed) {}

TpeSampler::TpeSampler(const std::vector<Parameter>& parameters, const TpeOptions& options,
                       std::vector<bool> maximize, uint64_t seed)
    : parameters_(parameters),
      options_(options),
      maximize_(std::move(maximize)),
      rng_(mix_seed(seed, 0x7BE)) {}

std::vector<const TpeSampler::Observation*> TpeSampler::ranked(
    const std::vector<Observation>& told, const std::vector<const Observation*>& liars,
    size_t n_below) const {
  // Pointers, not copies: with thousands of observations, copying their configs would cost more
  // than the estimators.
  std::vector<const Observation*> all;
  all.reserve(told.size() + liars.size());
  for (const Observation& o : told) all.push_back(&o);
  all.insert(all.end(), liars.begin(), liars.end());
  const bool several = maximize_.size() > 1;
  std::stable_sort(all.begin(), all.end(), [several](const Observation* a, const Observation* b) {
    if (a->group != b->group) return a->group < b->group;
    // A pruned trial ranks by how far it got, then (as Optuna's) by its value there.
    if (a->group == 1 && a->epochs != b->epochs) return a->epochs > b->epochs;
    if (a->group == 2 && a->violation != b->violation) return a->violation < b->violation;
    if (!several && a->losses[0] != b->losses[0]) return a->losses[0] < b->losses[0];
    return a->order < b->order;
  });
  if (!several) return all;
  // The finished trials (a prefix now, in age order): whole fronts while they fit in the good
  // group, then the best hypervolume subset of the front that straddles its edge.
  const size_t finished = static_cast<size_t>(
      std::count_if(all.begin(), all.end(), [](const Observation* o) { return o->group == 0; }));
  std::vector<ObjectiveVector> losses;
  for (size_t i = 0; i < finished; ++i) losses.push_back(all[i]->losses);
  std::vector<const Observation*> order;
  for (const std::vector<size_t>& front : nondominated_fronts(losses)) {
    const size_t room = n_below > order.size() ? n_below - order.size() : 0;
    if (room > 0 && room < front.size()) {
      std::vector<ObjectiveVector> members;
      for (size_t i : front) members.push_back(losses[i]);
      const std::vector<size_t> chosen =
          greedy_hypervolume_subset(members, room, reference_beyond(members));
      std::vector<bool> taken(front.size(), false);
      for (size_t c : chosen) {
        taken[c] = true;
        order.push_back(all[front[c]]);
      }
      for (size_t i = 0; i < front.size(); ++i) {
        if (!taken[i]) order.push_back(all[front[i]]);
      }
    } else {
      for (size_t i : front) order.push_back(all[i]);
    }
  }
  order.insert(order.end(), all.begin() + static_cast<std::ptrdiff_t>(finished), all.end());
  return order;
}

// Never below the fidelity the next trial is first judged at: a Hyperband bracket that trains
// its trials for 27 epochs before comparing them gains nothing from a model of who leads after
// one (on a learning curve, the fast learners that plateau lower). Without such a budget the
// model is the final results', further-trained first, as without multi_fidelity.
std::optional<int> TpeSampler::model_budget() const {
  const auto varied = std::count_if(parameters_.begin(), parameters_.end(), [](const Parameter& p) {
    return p.distribution != Distribution::kValue;
  });
  const size_t enough = static_cast<size_t>(std::max<int64_t>(options_.startup_trials, varied + 2));
  for (auto it = by_budget_.rbegin(); it != by_budget_.rend() && it->first >= judged_at_; ++it) {
    // A trial that trained through an epoch before the rule made it no rung (a measured ladder's
    // probe) says nothing there about the trials the rule judges.
    if (!fidelities_.empty() &&
        std::find(fidelities_.begin(), fidelities_.end(), it->first) == fidelities_.end()) {
      continue;
    }
    if (it->second.size() >= enough) return it->first;
  }
  return std::nullopt;
}

std::vector<TpeSampler::Observation> TpeSampler::observations_at(int budget) const {
  const auto& reached = by_budget_.at(budget);
  std::vector<Observation> model;
  model.reserve(reached.size() + told_.size());
  for (const auto& [key, o] : reached) model.push_back(o);
  // Stopped below this budget: worse than every config that reached it (the rule judged them
  // so), further-trained first, as pruned trials rank; failed and infeasible ones keep their
  // groups.
  for (const Observation& o : told_) {
    const std::string key = o.params.dump();
    if (reached.contains(key)) continue;
    Observation below = o;
    if (below.group <= 1) {
      below.group = 1;
      // Its value at the furthest budget it reached, for ranking among those stopped there.
      for (auto it = by_budget_.rbegin(); it != by_budget_.rend(); ++it) {
        if (const auto at = it->second.find(key); at != it->second.end()) {
          below.epochs = it->first;
          below.losses = at->second.losses;
          break;
        }
      }
    }
    model.push_back(std::move(below));
  }
  return model;
}

std::optional<Json> TpeSampler::ask() {
  Json config;
  std::vector<Observation> at_budget;
  const std::vector<Observation>* model = &told_;
  const std::map<std::string, Observation>* reached = nullptr;  // multi_fidelity: at its budget
  if (options_.multi_fidelity) {
    if (const std::optional<int> budget = model_budget()) {
      at_budget = observations_at(*budget);
      model = &at_budget;
      reached = &by_budget_.at(*budget);
    }
  }
  const auto informative =
      std::count_if(model->begin(), model->end(), [](const Observation& o) { return o.group < 3; });
  if (informative < options_.startup_trials) {
    config = random_config(parameters_, rng_);
  } else {
    std::vector<const Observation*> liars;
    if (options_.constant_liar) {
      for (const Observation& o : pending_) {
        // A running config already observed at the model's budget is that observation.
        if (!reached || !reached->contains(o.params.dump())) liars.push_back(&o);
      }
    }
    const size_t observed = model->size() + liars.size();
    const size_t n_below = std::min<size_t>(
        kMaxBelow, static_cast<size_t>(std::ceil(options_.gamma * static_cast<double>(observed))));
    const std::vector<const Observation*> all = ranked(*model, liars, n_below);
    std::vector<const Observation*> below(all.begin(),
                                          all.begin() + static_cast<std::ptrdiff_t>(n_below));
    std::vector<const Observation*> above(all.begin() + static_cast<std::ptrdiff_t>(n_below),
                                          all.end());
    auto by_age = [](const Observation* a, const Observation* b) { return a->order < b->order; };
    std::stable_sort(below.begin(), below.end(), by_age);
    std::stable_sort(above.begin(), above.end(), by_age);
    const std::vector<double> below_weights =
        maximize_.size() > 1 ? contribution_weights(below) : std::vector<double>();
    config = sample_model_based(below, below_weights, above);
  }
  pending_.push_back(
      {config, 4, 0, 0, std::vector<double>(maximize_.size(), kInf), asked_++, encode_all(config)});
  return config;
}

Json TpeSampler::sample_model_based(const std::vector<const Observation*>& below,
                                    const std::vector<double>& below_weights,
                                    const std::vector<const Observation*>& above) {
  Json config = Json::object();
  // Draws `candidates` points from l over `group` and keeps the one maximising l/g.
  auto choose = [&](const std::vector<const Parameter*>& group, bool multivariate) {
    const double bandwidth = options_.bandwidth_for(maximize_.size());
    const ParzenEstimator l(group, coordinates(parameters_, group, below, below_weights), options_,
                            multivariate, bandwidth);
    const ParzenEstimator g(group, coordinates(parameters_, group, above, {}), options_,
                            multivariate, bandwidth);
    std::vector<double> best, scratch;
    double best_score = -kInf;
    for (int i = 0; i < options_.candidates; ++i) {
      std::vector<double> x = l.sample(rng_);
      const double score = l.log_pdf(x, scratch) - g.log_pdf(x, scratch);
      if (best.empty() || score > best_score) {
        best = std::move(x);
        best_score = score;
      }
    }
    for (size_t d = 0; d < group.size(); ++d) config[group[d]->name] = decode(*group[d], best[d]);
  };

  if (options_.multivariate) {
    std::vector<const Parameter*> joint;
    for (const auto& p : parameters_) {
      if (!p.is_conditional() && p.distribution != Distribution::kValue) joint.push_back(&p);
    }
    if (!joint.empty()) choose(joint, true);
  }
  for (const auto& p : parameters_) {
    if (config.contains(p.name) || !is_active(p, config)) continue;
    if (p.distribution == Distribution::kValue) {
      config[p.name] = p.values.front();
    } else {
      choose({&p}, false);
    }
  }
  return config;
}

std::vector<double> TpeSampler::encode_all(const Json& params) const {
  std::vector<double> encoded(parameters_.size(), std::numeric_limits<double>::quiet_NaN());
  for (size_t i = 0; i < parameters_.size(); ++i) {
    auto it = params.find(parameters_[i].name);
    if (it == params.end()) continue;
    if (auto coordinate = encode(parameters_[i], *it)) encoded[i] = *coordinate;
  }
  return encoded;
}

bool TpeSampler::replay(const Json& params) {
  ask();
  pending_.back().params = params;
  pending_.back().encoded = encode_all(params);
  return true;
}

std::vector<TpeSampler::Observation>::iterator TpeSampler::pending_config(const Json& params) {
  return std::find_if(pending_.begin(), pending_.end(),
                      [&](const Observation& o) { return o.params == params; });
}

uint64_t TpeSampler::settle(const Json& params) {
  const auto it = pending_config(params);
  if (it == pending_.end()) return asked_;
  const uint64_t order = it->order;
  pending_.erase(it);
  return order;
}

void TpeSampler::tell(const Json& params, TrialStatus status, std::span<const double> values,
                      int epochs) {
  record(params, status, values, epochs, false);
}

void TpeSampler::tell_paused(const Json& params, std::span<const double> values, int epochs) {
  // Without every objective it says nothing yet: it stays pending (the liar's) until its end.
  if (values.size() == maximize_.size()) record(params, TrialStatus::kPruned, values, epochs, true);
}

void TpeSampler::record(const Json& params, TrialStatus status, std::span<const double> values,
                        int epochs, bool paused) {
  // Configs are known by their values, and two trials may share them (a categorical space): a
  // pending one is a trial reporting for the first time, else one that paused before continues.
  auto waiting = told_.end();
  if (pending_config(params) == pending_.end()) {
    waiting = std::find_if(told_.begin(), told_.end(),
                           [&](const Observation& o) { return o.paused && o.params == params; });
  }
  const uint64_t order = waiting == told_.end() ? settle(params) : waiting->order;
  // A config that failed (out of memory, diverged) is as bad as it gets: it joins the last
  // group so the model steers away from it instead of forgetting it and trying it again.
  bool failed = status == TrialStatus::kFailed || values.size() != maximize_.size();
  std::vector<double> losses(maximize_.size(), kInf);
  for (size_t m = 0; m < losses.size() && !failed; ++m) {
    losses[m] = maximize_[m] ? -values[m] : values[m];
    // A non-finite objective is as bad as a failure; with one objective it keeps its group.
    if (!std::isfinite(losses[m])) {
      losses[m] = kInf;
      failed = maximize_.size() > 1;
    }
  }
  if (failed) std::fill(losses.begin(), losses.end(), kInf);
  const int group = failed ? 3 : status == TrialStatus::kFinished ? 0 : 1;
  if (options_.multi_fidelity && !failed && epochs > 0) {
    // Its result at the budget it reached, unless its epochs said so already (a warm start's
    // prior trials report no epochs).
    by_budget_[epochs].try_emplace(
        params.dump(), Observation{params, 0, epochs, 0, losses, order, encode_all(params)});
  }
  Observation observation{params, group, epochs, 0, std::move(losses), order, {}, paused};
  if (waiting != told_.end()) {  // in place: the model's order of observations stays the same
    observation.encoded = std::move(waiting->encoded);
    *waiting = std::move(observation);
  } else {
    observation.encoded = encode_all(params);
    told_.push_back(std::move(observation));
  }
}

void TpeSampler::tell_intermediate(const Json& params, int epoch, std::span<const double> values) {
  if (!options_.multi_fidelity || values.size() != maximize_.size()) return;
  std::vector<double> losses(maximize_.size());
  for (size_t m = 0; m < losses.size(); ++m) {
    losses[m] = maximize_[m] ? -values[m] : values[m];
    if (!std::isfinite(losses[m])) return;  // the trial fails; tell() ranks it then
  }
  const auto asked = pending_config(params);
  const uint64_t order = asked == pending_.end() ? asked_ : asked->order;
  by_budget_[epoch].insert_or_assign(
      params.dump(),
      Observation{params, 0, epoch, 0, std::move(losses), order, encode_all(params)});
}

void TpeSampler::tell_infeasible(const Json& params, double violation) {
  const uint64_t order = settle(params);
  told_.push_back({params, 2, 0, violation, std::vector<double>(maximize_.size(), kInf), order,
                   encode_all(params)});
}

}  // namespace fersweep::search

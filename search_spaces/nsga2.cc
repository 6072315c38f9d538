#include "search_spaces/nsga2.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "search_spaces/space.h"

namespace fersweep::search {
namespace {

// Bounded simulated binary crossover on [0, 1] (Deb & Agrawal 1995): one of the two children.
double sbx(double a, double b, double eta, Rng& rng) {
  if (std::abs(a - b) < 1e-14) return a;
  const double low = std::min(a, b), high = std::max(a, b), gap = high - low;
  const double u = uniform01(rng);
  auto spread = [&](double beta) {
    const double alpha = 2 - std::pow(beta, -(eta + 1));
    return u <= 1 / alpha ? std::pow(u * alpha, 1 / (eta + 1))
                          : std::pow(1 / (2 - u * alpha), 1 / (eta + 1));
  };
  const double below = 0.5 * (low + high - spread(1 + 2 * low / gap) * gap);
  const double above = 0.5 * (low + high + spread(1 + 2 * (1 - high) / gap) * gap);
  return std::clamp(uniform01(rng) < 0.5 ? below : above, 0.0, 1.0);
}

// Bounded polynomial mutation on [0, 1] (Deb & Goyal 1996).
double polynomial_mutation(double x, double eta, Rng& rng) {
  const double u = uniform01(rng), power = 1 / (eta + 1);
  double shift;
  if (u < 0.5) {
    const double value = 2 * u + (1 - 2 * u) * std::pow(1 - x, eta + 1);
    shift = std::pow(value, power) - 1;
  } else {
    const double value = 2 * (1 - u) + 2 * (u - 0.5) * std::pow(x, eta + 1);
    shift = 1 - std::pow(value, power);
  }
  return std::clamp(x + shift, 0.0, 1.0);
}

}  // namespace

Nsga2Sampler::Nsga2Sampler(const std::vector<Parameter>& parameters, const Nsga2Options& options,
                           std::vector<bool> maximize, uint64_t seed)
    : parameters_(parameters),
      options_(options),
      maximize_(std::move(maximize)),
      rng_(mix_seed(seed, 0x45A)) {
  if (!options_.mutation_probability) {
    const auto free = std::count_if(parameters_.begin(), parameters_.end(), [](const Parameter& p) {
      return p.distribution != Distribution::kValue;
    });
    options_.mutation_probability = 1.0 / static_cast<double>(std::max<ptrdiff_t>(1, free));
  }
}

const std::vector<Nsga2Sampler::Member>& Nsga2Sampler::parents() {
  if (newcomers_.empty()) return parents_;
  std::vector<Member> pool = std::move(parents_);
  pool.insert(pool.end(), std::make_move_iterator(newcomers_.begin()),
              std::make_move_iterator(newcomers_.end()));
  newcomers_.clear();
  std::vector<size_t> feasible, infeasible;
  for (size_t i = 0; i < pool.size(); ++i) {
    (pool[i].violation > 0 ? infeasible : feasible).push_back(i);
  }
  std::vector<ObjectiveVector> losses;
  for (size_t i : feasible) losses.push_back(pool[i].losses);
  parents_.clear();
  const auto room = static_cast<size_t>(options_.population);
  // The most isolated of the last front first; ties keep the older member.
  int fronts = 0;
  for (const CrowdedRank& r : crowded_order(losses)) {
    if (parents_.size() == room) break;
    Member member = std::move(pool[feasible[r.index]]);
    member.rank = r.front;
    member.crowding = r.crowding;
    fronts = std::max(fronts, r.front + 1);
    parents_.push_back(std::move(member));
  }
  // Then the least violating infeasible ones, each a front of its own.
  std::stable_sort(infeasible.begin(), infeasible.end(),
                   [&](size_t a, size_t b) { return pool[a].violation < pool[b].violation; });
  for (size_t i : infeasible) {
    if (parents_.size() == room) break;
    Member member = std::move(pool[i]);
    member.rank = fronts++;
    member.crowding = 0;
    parents_.push_back(std::move(member));
  }
  return parents_;
}

const Nsga2Sampler::Member& Nsga2Sampler::tournament() {
  const auto& pool = parents();
  const Member& a = pool[uniform_index(rng_, pool.size())];
  const Member& b = pool[uniform_index(rng_, pool.size())];
  if (a.rank != b.rank) return a.rank < b.rank ? a : b;
  return b.crowding > a.crowding ? b : a;
}

Json Nsga2Sampler::child(const Member& first, const Member& second) {
  const bool cross = uniform01(rng_) < options_.crossover_probability;
  Json config = Json::object();
  for (const Parameter& p : parameters_) {
    if (!is_active(p, config)) continue;
    if (p.distribution == Distribution::kValue) {
      config[p.name] = p.values.front();
      continue;
    }
    // A parent's value as a point of [0, 1); NaN where that parent lacks the parameter.
    auto unit_in = [&](const Member& parent) {
      const auto value = parent.params.find(p.name);
      return value == parent.params.end() ? NAN : unit_of(p, *value).value_or(NAN);
    };
    const double ua = unit_in(first), ub = unit_in(second);
    double u;
    if (!std::isnan(ua) && !std::isnan(ub) && cross) {
      u = p.distribution == Distribution::kValues ? (uniform01(rng_) < 0.5 ? ua : ub)
                                                  : sbx(ua, ub, options_.crossover_eta, rng_);
    } else if (!std::isnan(ua) || !std::isnan(ub)) {
      u = std::isnan(ua) ? ub : ua;
    } else {  // active in the child, in neither parent: a fresh draw
      u = uniform01(rng_);
    }
    if (uniform01(rng_) < *options_.mutation_probability) {
      u = p.distribution == Distribution::kValues
              ? uniform01(rng_)
              : polynomial_mutation(u, options_.mutation_eta, rng_);
    }
    config[p.name] = value_at(p, u);
  }
  return config;
}

std::optional<Json> Nsga2Sampler::ask() {
  const bool random_phase = asked_ < static_cast<uint64_t>(options_.population) || finished_ < 2;
  ++asked_;
  if (random_phase) return random_config(parameters_, rng_);
  const Member& first = tournament();
  const Member* second = &tournament();
  // Two different parents when there are two, so crossover has something to mix.
  for (int attempt = 0; attempt < 8 && second->params == first.params && parents().size() > 1;
       ++attempt) {
    second = &tournament();
  }
  Json config = child(first, *second);
  if (config == first.params || config == second->params) {
    // A copy of a parent would repeat a finished trial: move one free parameter.
    std::vector<const Parameter*> free;
    for (const Parameter& p : parameters_) {
      if (config.contains(p.name) && p.distribution != Distribution::kValue) free.push_back(&p);
    }
    if (!free.empty()) {
      const Parameter& p = *free[uniform_index(rng_, free.size())];
      const double u = unit_of(p, config[p.name]).value_or(0.5);
      config[p.name] = value_at(p, p.distribution == Distribution::kValues
                                       ? uniform01(rng_)
                                       : polynomial_mutation(u, options_.mutation_eta, rng_));
    }
  }
  return config;
}

bool Nsga2Sampler::replay(const Json&) {
  ask();
  return true;
}

void Nsga2Sampler::tell(const Json& params, TrialStatus status, std::span<const double> values,
                        int) {
  // Only whole results compete: a failed or pruned trial, or one missing an objective, is not a
  // candidate parent.
  if (status != TrialStatus::kFinished || values.size() != maximize_.size()) return;
  Member member{params, {}, 0, 0};
  for (size_t m = 0; m < values.size(); ++m) {
    if (!std::isfinite(values[m])) return;
    member.losses.push_back(maximize_[m] ? -values[m] : values[m]);
  }
  newcomers_.push_back(std::move(member));
  ++finished_;
}

void Nsga2Sampler::tell_infeasible(const Json& params, double violation) {
  newcomers_.push_back({params, {}, 0, 0, std::max(violation, 1e-300)});
  ++finished_;
}

}  // namespace fersweep::search

#include "common/emotions.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "common/error.h"

namespace fersweep::data {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

const std::string& emotion_name(int emotion) {
  return fer2013_class_names().at(static_cast<size_t>(emotion));
}

std::optional<int> emotion_from_name(const std::string& name) {
  static const std::map<std::string, int> aliases = {{"angry", kAngry},
                                                     {"anger", kAngry},
                                                     {"an", kAngry},
                                                     {"disgust", kDisgust},
                                                     {"disgusted", kDisgust},
                                                     {"di", kDisgust},
                                                     {"fear", kFear},
                                                     {"afraid", kFear},
                                                     {"fearful", kFear},
                                                     {"scared", kFear},
                                                     {"fe", kFear},
                                                     {"happy", kHappy},
                                                     {"happiness", kHappy},
                                                     {"ha", kHappy},
                                                     {"sad", kSad},
                                                     {"sadness", kSad},
                                                     {"sa", kSad},
                                                     {"surprise", kSurprise},
                                                     {"surprised", kSurprise},
                                                     {"su", kSurprise},
                                                     {"neutral", kNeutral},
                                                     {"ne", kNeutral}};
  auto it = aliases.find(lower(name));
  if (it == aliases.end()) return std::nullopt;
  return it->second;
}

const std::vector<Grouping>& builtin_groupings() {
  static const std::vector<Grouping> groupings = [] {
    std::vector<Grouping> out;
    out.push_back({"fer7", fer2013_class_names(), {0, 1, 2, 3, 4, 5, 6}});
    out.push_back({"merge_anger_disgust",
                   {"Angry+Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"},
                   {0, 0, 1, 2, 3, 4, 5}});
    out.push_back({"no_disgust",
                   {"Angry", "Fear", "Happy", "Sad", "Surprise", "Neutral"},
                   {0, -1, 1, 2, 3, 4, 5}});
    return out;
  }();
  return groupings;
}

Grouping parse_grouping(const std::string& name, const nlohmann::json& classes,
                        const std::string& path) {
  if (!classes.is_object() || classes.size() < 2) {
    throw InputError(
        fmt::format("{}: expected an object of at least two classes, each a list of "
                    "emotions",
                    path));
  }
  Grouping g{name, {}, std::vector<int>(kEmotionCount, -1)};
  for (const auto& [class_name, members] : classes.items()) {
    const std::string where = path + "." + class_name;
    if (!members.is_array() || members.empty()) {
      throw InputError(where + ": expected a non-empty list of emotions");
    }
    for (const auto& member : members) {
      const auto emotion =
          member.is_string() ? emotion_from_name(member.get<std::string>()) : std::optional<int>();
      if (!emotion) {
        throw InputError(fmt::format("{}: unknown emotion {} (known: {})", where, member.dump(),
                                     fmt::join(fer2013_class_names(), ", ")));
      }
      if (g.class_of[*emotion] != -1) {
        throw InputError(fmt::format("{}: {} is already in class \"{}\"", where, member.dump(),
                                     g.class_names[g.class_of[*emotion]]));
      }
      g.class_of[*emotion] = static_cast<int>(g.class_names.size());
    }
    g.class_names.push_back(class_name);
  }
  return g;
}

}  // namespace fersweep::data

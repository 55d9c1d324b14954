#pragma once

#include <string>
#include <vector>

namespace orderflow::console::domain {

// One line (or one line per value of `by`) of a chart: a PromQL range query.
struct ChartQuery final {
  std::string promql;
  std::string label;  // the series name; with `by`, a prefix to the label's value
  std::string by;     // the label whose values name the series ("" for one series)
};

struct Chart final {
  std::string id;
  std::string title;
  std::string unit;  // "/s", "s", "records"
  std::vector<ChartQuery> queries;
};

// The overview's charts, over the metrics the services and the broker expose (README
// "Monitoring"). Fixed here, not taken from the page: the console runs no PromQL a browser
// sends it.
const std::vector<Chart>& charts();

}  // namespace orderflow::console::domain

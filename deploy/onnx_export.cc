#include "deploy/onnx_export.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "common/error.h"
#include "data/batch_assembly.h"
#include "models/model.h"

namespace fersweep::deploy {
namespace {

namespace nn = torch::nn;
using models::GraphValue;

// ONNX IR 5 came with opset 10 (ONNX 1.5): the oldest readers of this opset accept it.
constexpr int64_t kIrVersion = 5;

int first(const torch::ExpandingArray<2>& values) {
  return static_cast<int>((*values)[0]);
}

// The batch-norm of eval mode as a per-channel affine map y = x * scale + shift, in double.
struct Affine {
  torch::Tensor scale, shift;
};

template <typename NormImpl>
Affine affine_of(const NormImpl& norm) {
  torch::NoGradGuard no_grad;
  const auto& o = norm.options;
  const int64_t channels = o.num_features();
  const torch::Tensor mean = norm.running_mean.to(torch::kFloat64);
  const torch::Tensor var = norm.running_var.to(torch::kFloat64);
  const torch::Tensor gamma =
      o.affine() ? norm.weight.to(torch::kFloat64) : torch::ones({channels}, torch::kFloat64);
  const torch::Tensor beta =
      o.affine() ? norm.bias.to(torch::kFloat64) : torch::zeros({channels}, torch::kFloat64);
  const torch::Tensor scale = gamma / torch::sqrt(var + o.eps());
  return {scale, beta - mean * scale};
}

onnx::AttributeProto& add_attribute(onnx::NodeProto& node, const std::string& name,
                                    onnx::AttributeProto::AttributeType type) {
  onnx::AttributeProto& attribute = *node.add_attribute();
  attribute.set_name(name);
  attribute.set_type(type);
  return attribute;
}
void add_ints(onnx::NodeProto& node, const std::string& name, const std::vector<int64_t>& values) {
  onnx::AttributeProto& attribute = add_attribute(node, name, onnx::AttributeProto::INTS);
  for (int64_t v : values) attribute.add_ints(v);
}
void add_int(onnx::NodeProto& node, const std::string& name, int64_t value) {
  add_attribute(node, name, onnx::AttributeProto::INT).set_i(value);
}
void add_float(onnx::NodeProto& node, const std::string& name, float value) {
  add_attribute(node, name, onnx::AttributeProto::FLOAT).set_f(value);
}
void add_string(onnx::NodeProto& node, const std::string& name, const std::string& value) {
  add_attribute(node, name, onnx::AttributeProto::STRING).set_s(value);
}

// Each value's shape without the batch dimension, tracked alongside the graph: the one place that
// needs it is multiply(), which must spell out a broadcast for OpenCV.
using Shape = std::vector<int64_t>;

int64_t pooled_extent(int64_t in, int64_t kernel, int64_t stride, int64_t padding) {
  return (in + 2 * padding - kernel) / stride + 1;
}

class OnnxGraphWriter final : public models::GraphWriter {
 public:
  OnnxGraphWriter(onnx::GraphProto& graph, const GraphValue& input, const Shape& shape)
      : graph_(graph) {
    shapes_[input] = shape;
  }

  GraphValue conv(const GraphValue& x, const nn::Conv2dImpl& conv,
                  const nn::BatchNorm2dImpl* norm) override {
    const auto& o = conv.options;
    // Unqualified so that argument-dependent lookup finds the variant's own get_if: c10::variant's
    // in LibTorch 1.13, std::variant's from 2.x on.
    const auto* padding = get_if<torch::ExpandingArray<2>>(&o.padding());
    if (!padding || o.transposed() || first(o.dilation()) != 1) {
      throw std::invalid_argument("export: only plain padded 2-D convolutions are supported");
    }
    torch::NoGradGuard no_grad;
    torch::Tensor weight = conv.weight.to(torch::kFloat64);
    torch::Tensor bias = conv.bias.defined() ? conv.bias.to(torch::kFloat64)
                                             : torch::zeros({o.out_channels()}, torch::kFloat64);
    if (norm) {
      const Affine bn = affine_of(*norm);
      weight = weight * bn.scale.view({-1, 1, 1, 1});
      bias = bias * bn.scale + bn.shift;
    }
    onnx::NodeProto& node = add_node("Conv", {x, initializer("W", weight), initializer("B", bias)});
    const int64_t kernel = first(o.kernel_size()), pad = first(*padding),
                  stride = first(o.stride());
    add_ints(node, "kernel_shape", {kernel, kernel});
    add_ints(node, "strides", {stride, stride});
    add_ints(node, "pads", {pad, pad, pad, pad});
    add_ints(node, "dilations", {1, 1});
    add_int(node, "group", o.groups());
    const Shape& in = shapes_.at(x);
    return shaped(node, {o.out_channels(), pooled_extent(in[1], kernel, stride, pad),
                         pooled_extent(in[2], kernel, stride, pad)});
  }

  GraphValue linear(const GraphValue& x, const nn::LinearImpl& linear,
                    const nn::BatchNorm1dImpl* norm) override {
    torch::NoGradGuard no_grad;
    torch::Tensor weight = linear.weight.to(torch::kFloat64);
    torch::Tensor bias = linear.bias.defined()
                             ? linear.bias.to(torch::kFloat64)
                             : torch::zeros({linear.options.out_features()}, torch::kFloat64);
    if (norm) {
      const Affine bn = affine_of(*norm);
      weight = weight * bn.scale.view({-1, 1});
      bias = bias * bn.scale + bn.shift;
    }
    onnx::NodeProto& node = add_node("Gemm", {x, initializer("W", weight), initializer("B", bias)});
    add_int(node, "transB", 1);
    return shaped(node, {linear.options.out_features()});
  }

  GraphValue pointwise(const GraphValue& x, models::Pointwise op) override {
    const Shape& shape = shapes_.at(x);
    switch (op) {
      case models::Pointwise::kReLU:
        return shaped(add_node("Relu", {x}), shape);
      case models::Pointwise::kReLU6: {
        onnx::NodeProto& node = add_node("Clip", {x});
        add_float(node, "min", 0.0f);
        add_float(node, "max", 6.0f);
        return shaped(node, shape);
      }
      case models::Pointwise::kSigmoid:
        return shaped(add_node("Sigmoid", {x}), shape);
      case models::Pointwise::kSiLU:  // no SiLU operator before opset 24: x * sigmoid(x)
        return shaped(add_node("Mul", {x, shaped(add_node("Sigmoid", {x}), shape)}), shape);
    }
    throw std::logic_error("export: unknown pointwise operation");
  }

  GraphValue max_pool(const GraphValue& x, int kernel, int stride, int padding) override {
    onnx::NodeProto& node = add_node("MaxPool", {x});
    add_ints(node, "kernel_shape", {kernel, kernel});
    add_ints(node, "strides", {stride, stride});
    add_ints(node, "pads", {padding, padding, padding, padding});
    const Shape& in = shapes_.at(x);
    return shaped(node, {in[0], pooled_extent(in[1], kernel, stride, padding),
                         pooled_extent(in[2], kernel, stride, padding)});
  }

  GraphValue global_average_pool(const GraphValue& x) override {
    return shaped(add_node("GlobalAveragePool", {x}), {shapes_.at(x)[0], 1, 1});
  }

  GraphValue adaptive_average_pool(const GraphValue& x, int channels, int from, int to) override {
    if (to == 1) return global_average_pool(x);
    if (from % to == 0) {  // equal windows: a plain average pool
      onnx::NodeProto& node = add_node("AveragePool", {x});
      add_ints(node, "kernel_shape", {from / to, from / to});
      add_ints(node, "strides", {from / to, from / to});
      return shaped(node, {channels, to, to});
    }
    // Otherwise each output is the mean of a window [floor(i*from/to), ceil((i+1)*from/to)),
    // windows overlapping or repeating: a fixed linear map of the flattened plane.
    torch::Tensor map = torch::zeros({from * from, to * to}, torch::kFloat64);
    for (int oy = 0; oy < to; ++oy) {
      for (int ox = 0; ox < to; ++ox) {
        const int y0 = oy * from / to, y1 = ((oy + 1) * from + to - 1) / to;
        const int x0 = ox * from / to, x1 = ((ox + 1) * from + to - 1) / to;
        const double weight = 1.0 / ((y1 - y0) * (x1 - x0));
        for (int y = y0; y < y1; ++y) {
          for (int x = x0; x < x1; ++x) map[y * from + x][oy * to + ox] = weight;
        }
      }
    }
    const GraphValue planes =
        add_node("Reshape", {x, shape("planes", {0, channels, -1})}).output(0);
    const GraphValue pooled = add_node("MatMul", {planes, initializer("pool", map)}).output(0);
    return shaped(add_node("Reshape", {pooled, shape("pooled", {0, channels, to, to})}),
                  {channels, to, to});
  }

  GraphValue flatten(const GraphValue& x) override {
    onnx::NodeProto& node = add_node("Flatten", {x});
    add_int(node, "axis", 1);
    int64_t size = 1;
    for (int64_t d : shapes_.at(x)) size *= d;
    return shaped(node, {size});
  }

  GraphValue add(const GraphValue& a, const GraphValue& b) override {
    return shaped(add_node("Add", {a, b}), shapes_.at(a));
  }

  // OpenCV 4.6's element-wise layers cannot broadcast a [N, C, 1, 1] scale over [N, C, H, W], so
  // the scale is first repeated over the plane (Resize, nearest: exact copies).
  GraphValue multiply(const GraphValue& a, const GraphValue& b) override {
    const Shape& big = shapes_.at(a);
    GraphValue scale = b;
    if (shapes_.at(b) != big) {
      if (shapes_.at(b) != Shape{big[0], 1, 1}) {
        throw std::invalid_argument("export: multiply broadcasts only a [C, 1, 1] scale");
      }
      const torch::Tensor factors =
          torch::tensor({1.0, 1.0, static_cast<double>(big[1]), static_cast<double>(big[2])});
      onnx::NodeProto& node = add_node("Resize", {b, initializer("scales", factors)});
      add_string(node, "mode", "nearest");
      scale = shaped(node, big);
    }
    return shaped(add_node("Mul", {a, scale}), big);
  }

  onnx::NodeProto& add_node(const std::string& op, const std::vector<GraphValue>& inputs,
                            const std::string& output = "") {
    onnx::NodeProto& node = *graph_.add_node();
    node.set_op_type(op);
    node.set_name(fmt::format("{}_{}", op, graph_.node_size()));
    for (const GraphValue& input : inputs) node.add_input(input);
    node.add_output(output.empty() ? fmt::format("t{}", graph_.node_size()) : output);
    return node;
  }

  // A float32 initializer (weights are computed in double, rounded once here).
  GraphValue initializer(const std::string& stem, const torch::Tensor& values) {
    const torch::Tensor data = torch::empty(values.sizes(), torch::kFloat32).copy_(values);
    onnx::TensorProto& tensor = *graph_.add_initializer();
    tensor.set_name(fmt::format("{}_{}", stem, graph_.initializer_size()));
    tensor.set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : data.sizes()) tensor.add_dims(d);
    tensor.set_raw_data(data.data_ptr(), data.numel() * sizeof(float));
    return tensor.name();
  }

  GraphValue scalar(const std::string& stem, double value) {
    return initializer(stem, torch::full({}, value, torch::kFloat64));
  }

  GraphValue shaped(onnx::NodeProto& node, const Shape& shape) {
    shapes_[node.output(0)] = shape;
    return node.output(0);
  }

  GraphValue shape(const std::string& stem, const std::vector<int64_t>& dims) {
    onnx::TensorProto& tensor = *graph_.add_initializer();
    tensor.set_name(fmt::format("{}_{}", stem, graph_.initializer_size()));
    tensor.set_data_type(onnx::TensorProto::INT64);
    tensor.add_dims(static_cast<int64_t>(dims.size()));
    for (int64_t d : dims) tensor.add_int64_data(d);
    return tensor.name();
  }

 private:
  onnx::GraphProto& graph_;
  std::map<GraphValue, Shape> shapes_;
};

void declare_tensor(onnx::ValueInfoProto& value, const std::string& name,
                    const std::vector<int64_t>& fixed_dims) {
  value.set_name(name);
  onnx::TypeProto_Tensor& tensor = *value.mutable_type()->mutable_tensor_type();
  tensor.set_elem_type(onnx::TensorProto::FLOAT);
  onnx::TensorShapeProto& shape = *tensor.mutable_shape();
  shape.add_dim()->set_dim_param("N");
  for (int64_t d : fixed_dims) shape.add_dim()->set_dim_value(d);
}

onnx::ModelProto build_model(const models::ClassifierImpl& model,
                             const models::ModelOptions& options, const OnnxMetadata& metadata) {
  onnx::ModelProto proto;
  proto.set_ir_version(kIrVersion);
  proto.set_producer_name("fersweep");
  proto.set_producer_version(FERSWEEP_VERSION);
  proto.set_doc_string(
      "Facial-emotion classifier. Input: grayscale pixel values 0..255, [N, 1, S, S]; the "
      "normalisation is inside the graph. Outputs: logits and softmax probabilities, [N, classes]; "
      "class names in metadata_props.");
  onnx::OperatorSetIdProto& opset = *proto.add_opset_import();
  opset.set_domain("");
  opset.set_version(kOnnxOpset);
  for (const auto& [key, value] : metadata) {
    onnx::StringStringEntryProto& entry = *proto.add_metadata_props();
    entry.set_key(key);
    entry.set_value(value);
  }

  onnx::GraphProto& graph = *proto.mutable_graph();
  graph.set_name(options.arch);
  const Shape image = {options.in_channels, options.image_size, options.image_size};
  declare_tensor(*graph.add_input(), "pixels", image);
  OnnxGraphWriter writer(graph, "pixels", image);
  // As training prepares a batch: (pixel - centre) / scale. The scale is a power of two, so the
  // product by its inverse is the same float as the quotient.
  const GraphValue centred = writer.shaped(
      writer.add_node("Sub", {"pixels", writer.scalar("pixel_centre", data::kPixelCentre)}), image);
  const GraphValue normalised = writer.shaped(
      writer.add_node("Mul", {centred, writer.scalar("pixel_scale", 1.0 / data::kPixelScale)}),
      image);
  const GraphValue logits = model.describe(writer, normalised);
  writer.add_node("Identity", {logits}, "logits");
  // Softmax of opset 10 works on the input seen as 2-D at `axis`: the logits are 2-D already.
  add_int(writer.add_node("Softmax", {"logits"}, "probabilities"), "axis", 1);
  declare_tensor(*graph.add_output(), "logits", {options.num_classes});
  declare_tensor(*graph.add_output(), "probabilities", {options.num_classes});

  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    throw std::logic_error(
        fmt::format("export: onnx::checker rejects the {} graph: {}", options.arch, e.what()));
  }
  return proto;
}

std::string onnx_model_bytes(const models::ClassifierImpl& model,
                             const models::ModelOptions& options, const OnnxMetadata& metadata) {
  std::string bytes;
  if (!build_model(model, options, metadata).SerializeToString(&bytes)) {
    throw std::runtime_error("export: cannot serialise the ONNX model");
  }
  return bytes;
}

}  // namespace

void write_onnx_model(const models::ClassifierImpl& model, const models::ModelOptions& options,
                      const OnnxMetadata& metadata, const std::string& path) {
  const std::string bytes = onnx_model_bytes(model, options, metadata);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::remove(tmp.c_str());
      throw InputError(fmt::format("{}: cannot write the model", path));
    }
  }
  std::error_code error;
  std::filesystem::rename(tmp, path, error);
  if (error) {
    std::remove(tmp.c_str());
    throw InputError(fmt::format("{}: cannot write the model: {}", path, error.message()));
  }
}

}  // namespace fersweep::deploy

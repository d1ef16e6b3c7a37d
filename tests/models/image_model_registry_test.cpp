// The image-model registry (issue 13: models are chosen from a registry): every row builds, and
// what the row says (an ODE block or not, the default gradient method) is what the classifier
// does; names round-trip and an unknown one lists them all.
#include "neuralode/models/image_model_registry.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "neuralode/error.hpp"
#include "neuralode/models/image_classifier.hpp"

namespace neuralode::models {
namespace {

TEST(ImageModelRegistry, EveryRowBuildsTheModelItDescribes) {
  std::set<std::string> names;
  for (const ImageModel& m : image_models()) {
    EXPECT_TRUE(names.insert(m.name).second) << "duplicate " << m.name;
    EXPECT_FALSE(m.description.empty()) << m.name;
    EXPECT_EQ(&find_image_model(m.name), &m);
    // Small images and few channels: the structure is what is checked, not the size.
    ImageClassifier<float> net(
        {.model = m.name, .image_height = 10, .image_width = 10, .channels = 4});
    EXPECT_EQ(net.ode_block() != nullptr, m.has_ode_block) << m.name;
    EXPECT_EQ(net.options().effective_grad(), m.default_grad) << m.name;
    EXPECT_GT(net.num_params(), 0) << m.name;
  }
  EXPECT_EQ(image_model_names(), "odenet, rknet, resnet");
}

TEST(ImageModelRegistry, AnUnknownNameListsTheRegisteredOnes) {
  try {
    find_image_model("vgg");
    FAIL() << "vgg was found";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()), "unknown model 'vgg'; accepted: " + image_model_names());
  }
}

}  // namespace
}  // namespace neuralode::models

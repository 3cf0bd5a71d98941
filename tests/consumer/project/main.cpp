// Fits y = 2x with one weight by gradient descent through the installed FuseNAS engine.
#include <fusenas/engine/factory.h>
#include <fusenas/engine/grad_mode.h>
#include <fusenas/engine/ops.h>

#include <cstdio>

int main() {
  using namespace fusenas;
  Generator gen(7);
  Tensor x = uniform({16, 1}, -1, 1, gen);
  Tensor y = scale(x, 2.0);
  Tensor w = zeros({1, 1}).set_requires_grad();
  double first = 0, last = 0;
  for (int step = 0; step < 20; ++step) {
    Tensor loss = mean(square(sub(matmul(x, w), y)));
    if (step == 0) first = loss.item();
    last = loss.item();
    w.set_grad(Tensor());
    loss.backward();
    NoGradGuard no_grad;
    w.add_(w.grad(), -0.5);
  }
  std::printf("%s %g -> %g\n", last < first ? "loss decreased" : "loss did not decrease", first,
              last);
  return last < first ? 0 : 1;
}

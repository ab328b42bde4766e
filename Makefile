# The two commands a newcomer needs: `make demo` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo

.PHONY: demo test build setup bench format clean

setup:
	@scripts/setup.sh build

build: setup
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null
	@cmake --build $(BUILD_DIR)

demo:
	@scripts/setup.sh demo
	@$(MAKE) --no-print-directory build
	@scripts/demo.sh

test: build
	@cd $(BUILD_DIR) && ctest -j2 --output-on-failure --timeout 600

bench:
	@scripts/setup.sh bench
	@cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build-release --target cairn tracking_bench registry_bench asset_bench serving_bench data_bench
	@bench/run_all.sh build-release

format:
	@clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR)

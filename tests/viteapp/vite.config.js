// No configuration the package needs: this only keeps the build readable
// for the test (no minification) and fixes the output folder.
export default { build: { outDir: 'dist', minify: false } };

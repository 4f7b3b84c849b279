/** The portal console: served in-process by start-dev (services/server/src/portal-web.ts). */
const nextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  // The root eslint.config.mjs lints web/ with the rest of the tree.
  eslint: { ignoreDuringBuilds: true },
};
export default nextConfig;

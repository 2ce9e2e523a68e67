// Loaded by mocha (--require) before countapi-js: the client's fetch, pointed at the
// service under test instead of api.countapi.xyz (its base URL is a constant), with the
// Referer a browser page would send (countapi.visits() names the calling page).
"use strict";

const crossFetch = require("cross-fetch");

const BASE = process.env.COUNTAPI_BASE;
const PAGE = process.env.COUNTAPI_PAGE;
if (!BASE || !PAGE) {
  throw new Error("set COUNTAPI_BASE (the service) and COUNTAPI_PAGE (the calling page)");
}

function fetchFromPage(url, init) {
  const options = Object.assign({}, init);
  options.headers = Object.assign({ Referer: PAGE }, options.headers);
  return crossFetch(String(url).replace("https://api.countapi.xyz", BASE), options);
}

require.cache[require.resolve("cross-fetch")].exports = fetchFromPage;

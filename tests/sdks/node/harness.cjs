// Drives one official Node SDK against a live server, as an application would: initialise with
// the server's address, evaluate every gate, config, experiment and layer for each user, log one
// event per user, shut down (which flushes the events). Reads the job as JSON from the file named
// by the first argument; writes {"answers": [...]} as JSON to the file named by the second (the
// SDKs print their own logs on stdout).
"use strict";

const fs = require("node:fs");

const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));

function layerValues(layer, params) {
  const values = {};
  for (const param of params) {
    values[param] = layer.get(param, null);
  }
  return values;
}

async function legacyStatsigNode() {
  const statsig = require("statsig-node");
  await statsig.initialize(job.key, {
    api: `${job.base}/v1`,
    rulesetsSyncIntervalMs: 1000,
    idListsSyncIntervalMs: 1000,
    disableDiagnostics: true,
  });
  const answers = job.users.map((user) => ({
    gates: Object.fromEntries(job.gates.map((g) => [g, statsig.checkGateSync(user, g)])),
    configs: Object.fromEntries(
      job.configs.map((c) => [c, statsig.getConfigSync(user, c).value]),
    ),
    experiments: Object.fromEntries(
      job.experiments.map((e) => [e, statsig.getExperimentSync(user, e).value]),
    ),
    layers: Object.fromEntries(
      Object.entries(job.layers).map(([l, params]) => [
        l,
        layerValues(statsig.getLayerSync(user, l), params),
      ]),
    ),
  }));
  for (const user of job.users) {
    statsig.logEvent(user, job.event, 1, { sdk: "statsig-node" });
  }
  await statsig.shutdownAsync();
  return answers;
}

async function serverCore() {
  const { Statsig, StatsigUser } = require("@statsig/statsig-node-core");
  const statsig = new Statsig(job.key, {
    specsUrl: `${job.base}/v2/download_config_specs`,
    logEventUrl: `${job.base}/v1/log_event`,
    idListsUrl: `${job.base}/v1/get_id_lists`,
    enableIdLists: true,
    outputLogLevel: "warn",
  });
  await statsig.initialize();
  const answers = job.users.map((raw) => {
    const user = new StatsigUser(raw);
    return {
      gates: Object.fromEntries(job.gates.map((g) => [g, statsig.checkGate(user, g)])),
      configs: Object.fromEntries(
        job.configs.map((c) => [c, statsig.getDynamicConfig(user, c).value]),
      ),
      experiments: Object.fromEntries(
        job.experiments.map((e) => [e, statsig.getExperiment(user, e).value]),
      ),
      layers: Object.fromEntries(
        Object.entries(job.layers).map(([l, params]) => [
          l,
          layerValues(statsig.getLayer(user, l), params),
        ]),
      ),
    };
  });
  for (const raw of job.users) {
    statsig.logEvent(new StatsigUser(raw), job.event, 1, { sdk: "statsig-node-core" });
  }
  await statsig.shutdown();
  return answers;
}

async function posthogNode() {
  const { PostHog } = require("posthog-node");
  const client = new PostHog(job.key, { host: job.base, flushAt: 1, flushInterval: 0 });
  const answers = [];
  for (const person of job.users) {
    const options = { personProperties: person.properties, groups: person.groups };
    const flags = {};
    for (const key of job.gates) {
      flags[key] = await client.isFeatureEnabled(key, person.distinctId, options);
    }
    for (const key of job.experiments) {
      flags[key] = await client.getFeatureFlag(key, person.distinctId, options);
    }
    answers.push({ flags });
    client.capture({ distinctId: person.distinctId, event: job.event, properties: { sdk: "posthog-node" } });
  }
  await client.shutdown();
  return answers;
}

const drivers = {
  "statsig-node": legacyStatsigNode,
  "statsig-node-core": serverCore,
  "posthog-node": posthogNode,
};

drivers[job.sdk]()
  .then((answers) => {
    fs.writeFileSync(process.argv[3], JSON.stringify({ answers }));
    process.exit(0);
  })
  .catch((error) => {
    process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
    process.exit(1);
  });

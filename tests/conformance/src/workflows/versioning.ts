// Workflows of the worker-versioning conformance test. Each worker of that test defines the
// `whichBuild` activity to answer its own build id, so a result lists the builds that ran it.
import { condition, continueAsNew, defineSignal, executeChild, proxyActivities, setHandler, setWorkflowOptions } from '@temporalio/workflow';

export interface VersioningActivities {
  whichBuild(): Promise<string>;
}

const { whichBuild } = proxyActivities<VersioningActivities>({ startToCloseTimeout: '10s' });

export const proceedSignal = defineSignal('proceed');

/** Asks which build runs it, waits for the `proceed` signal, asks again. */
async function buildsAcrossSignal(): Promise<string[]> {
  let proceed = false;
  setHandler(proceedSignal, () => {
    proceed = true;
  });
  const builds = [await whichBuild()];
  await condition(() => proceed);
  builds.push(await whichBuild());
  return builds;
}

/** Stays on the version that started it. */
export async function pinnedBuilds(): Promise<string[]> {
  return buildsAcrossSignal();
}
setWorkflowOptions({ versioningBehavior: 'PINNED' }, pinnedBuilds);

/** Moves to the deployment's current version. */
export async function autoUpgradeBuilds(): Promise<string[]> {
  return buildsAcrossSignal();
}
setWorkflowOptions({ versioningBehavior: 'AUTO_UPGRADE' }, autoUpgradeBuilds);

/** One activity: the build that ran it (AUTO_UPGRADE, the worker's default in that test). */
export async function oneBuild(): Promise<string> {
  return whichBuild();
}

/** A pinned child: the build that ran it. */
export async function pinnedOneBuild(): Promise<string> {
  return whichBuild();
}
setWorkflowOptions({ versioningBehavior: 'PINNED' }, pinnedOneBuild);

/**
 * Pinned; after the `proceed` signal runs a child on its own queue, then continues as new: the
 * last run answers [the child's build, its own build].
 */
export async function pinnedFamily(childBuild?: string): Promise<string[]> {
  if (childBuild !== undefined) return [childBuild, await whichBuild()];
  let proceed = false;
  setHandler(proceedSignal, () => {
    proceed = true;
  });
  await condition(() => proceed);
  const built = await executeChild(pinnedOneBuild, {});
  return continueAsNew<typeof pinnedFamily>(built);
}
setWorkflowOptions({ versioningBehavior: 'PINNED' }, pinnedFamily);

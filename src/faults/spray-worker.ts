/** Worker thread of sprayInWorker (spray.ts): sends the junk, posts how many went out. */
import {parentPort, workerData} from 'node:worker_threads';
import {sprayGarbage} from './spray.js';

const {ports, total} = workerData as {ports: number[]; total: number};
parentPort?.postMessage(await sprayGarbage(ports, total));

import { runAdapterTable } from '../support/adapter-table.js';
import {
  expressDriver,
  fastifyDriver,
  fastifyPassDriver,
  fetchDriver,
  honoDriver,
  lambdaDriver,
  restApiWithClientCasing,
} from '../support/adapter-drivers.js';
import { functionUrlEvent, httpApiEvent } from '../support/lambda-events.js';

runAdapterTable(expressDriver);
runAdapterTable(fetchDriver);
runAdapterTable(honoDriver);
runAdapterTable(fastifyDriver);
runAdapterTable(fastifyPassDriver);
runAdapterTable(lambdaDriver('Lambda: API Gateway REST (v1)', restApiWithClientCasing));
runAdapterTable(lambdaDriver('Lambda: API Gateway REST (v1), base64 body', restApiWithClientCasing, true));
runAdapterTable(lambdaDriver('Lambda: HTTP API (v2)', httpApiEvent));
runAdapterTable(lambdaDriver('Lambda: Function URL', functionUrlEvent));
runAdapterTable(lambdaDriver('Lambda: Function URL, base64 body', functionUrlEvent, true));

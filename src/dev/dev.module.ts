import { Module } from '@nestjs/common';
import { DevSignController } from './dev-sign.controller.js';

/**
 * Developer tools (POST /dev/sign/:provider). AppModule imports it only when
 * DEV_TOOLS_ENABLED is true, so neither the route nor its Swagger entry exists otherwise.
 */
@Module({ controllers: [DevSignController] })
export class DevModule {}

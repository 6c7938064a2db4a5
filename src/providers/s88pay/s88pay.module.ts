import { Module } from '@nestjs/common';
import { S88payController } from './s88pay.controller.js';
import { S88payGuard } from './s88pay.guard.js';
import { S88payProvider } from './s88pay.provider.js';

@Module({
  controllers: [S88payController],
  providers: [S88payProvider, S88payGuard],
})
export class S88payModule {}
